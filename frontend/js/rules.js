// The API's product rules (POST/PATCH /api/products), checked before
// sending so most mistakes are explained at once. They never replace the
// server's: it checks again and knows more (whether a category still
// exists, say), and its 422 errors are shown the same way.
export const FIELDS = ['name', 'description', 'price', 'category', 'stock', 'image'];
export const MAX = { name: 200, description: 5000, image: 2048, price: 1e9 };
const PRICE = /^\d+(\.\d{1,2})?$/;
const chars = (s) => [...s].length; // code points, not UTF-16 units

// raw: the form's strings by field → { values (the API's JSON), errors (field → words) }
export function check(raw) {
  const errors = {};
  const name = raw.name.trim();
  if (!name) errors.name = 'Enter a name.';
  else if (chars(name) > MAX.name) errors.name = `Use at most ${MAX.name} characters (this has ${chars(name)}).`;
  if (chars(raw.description) > MAX.description) {
    errors.description = `Use at most ${MAX.description} characters (this has ${chars(raw.description)}).`;
  }
  const price = raw.price.trim();
  if (!PRICE.test(price)) errors.price = 'Enter a price of 0 or more with at most two decimals, like 12 or 12.50.';
  else if (Number(price) > MAX.price) errors.price = 'The price can be at most 1000000000.';
  if (!raw.category) errors.category = 'Choose a category.';
  const stock = raw.stock.trim();
  if (!/^\d+$/.test(stock) || !Number.isSafeInteger(Number(stock))) errors.stock = 'Enter a whole number, 0 or more.';
  const image = raw.image.trim();
  if (chars(image) > MAX.image) errors.image = `Use at most ${MAX.image} characters.`;
  else if (image && !/^(\/(?!\/)|https?:\/\/)\S+$/i.test(image)) {
    errors.image = 'Enter a path that starts with / (like /images/mug.svg) or an http:// or https:// address.';
  }
  return {
    errors,
    values: {
      name,
      description: raw.description.trim() ? raw.description : null,
      price: Number(price),
      category: raw.category,
      stock: Number(stock),
      image: image || null,
    },
  };
}
