// Command ferretdb-local runs FerretDB v1 (SQLite handler) embedded, for the
// local stack and the tests. MongoDB has no Debian package; FerretDB speaks
// the same wire protocol. It listens on the given loopback address until
// SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "state/ferretdb", "directory for the SQLite databases")
	verbose := flag.Bool("v", false, "log every connection (default: warnings only)")
	flag.Parse()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	// one JSON object per line, like the backend's log: a multi-line message
	// (a dump of a failed query) stays one escaped line
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatalf("ferretdb-local: %v", err)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
	})
	if err != nil {
		log.Fatalf("ferretdb-local: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	slog.New(slog.NewJSONHandler(os.Stderr, nil)).Info("ferretdb-local: listening", "listen", *listen, "dir", *dir)
	f.Run(ctx)
}
