package kafkatest

import (
	"net"
	"testing"
	"time"
)

func TestStartAndStop(t *testing.T) {
	b := Start(t, 2, "events")
	c, err := net.DialTimeout("tcp", b.Addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dialing the broker: %v", err)
	}
	_ = c.Close()
	b.Stop()
	if _, err := net.DialTimeout("tcp", b.Addr, time.Second); err == nil {
		t.Fatal("the broker still accepts connections after Stop")
	}
}
