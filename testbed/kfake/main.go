// Command kfake runs franz-go's kfake, an in-memory Kafka-protocol broker,
// on loopback for the scale-out tests and benchmarks (testbed/e2e,
// testbed/scalebench). It stands in for Kafka or Redpanda, which production
// uses: kfake keeps every record in memory and never compacts.
//
//	kfake -listen 127.0.0.1:0 -partitions 6 -topics pulse-events,pulse-state
//
// It prints "listening on ADDR" once it accepts connections and runs until
// SIGINT or SIGTERM.
//
// It is its own module: kfake builds only at the revision contrib
// v0.165.1's kafka components were tested with, older than the one the
// main module's graph selects. Build it with `go build` in this directory
// (testbed/internal/kafkarun does).
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "host:port to listen on (port 0: a free one)")
	partitions := flag.Int("partitions", 6, "partitions of every topic created at start or on first use")
	topics := flag.String("topics", "", "comma-separated topics to create at start")
	flag.Parse()
	if err := run(*listen, *partitions, *topics); err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(1)
	}
}

func run(listen string, partitions int, topics string) error {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("-listen %q: port: %w", listen, err)
	}
	if port == 0 {
		// kfake takes ports, not listeners: find a free one.
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return err
		}
		port = l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
	}
	if partitions < 1 {
		return fmt.Errorf("-partitions: must be at least 1, got %d", partitions)
	}
	opts := []kfake.Opt{
		kfake.Ports(port),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
		kfake.DefaultNumPartitions(partitions),
		kfake.AllowAutoTopicCreation(),
	}
	var names []string
	for t := range strings.SplitSeq(topics, ",") {
		if t = strings.TrimSpace(t); t != "" {
			names = append(names, t)
		}
	}
	if len(names) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(partitions), names...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Printf("listening on %s\n", c.ListenAddrs()[0])
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return nil
}
