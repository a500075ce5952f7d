package pii

import (
	"fmt"
	"testing"
)

func TestZZCount(t *testing.T) {
	tot, ev, words := 0, 0, 0
	for _, v := range cleanEvent {
		tot += len(v)
		for i := 0; i < len(v); i++ {
			if intr[v[i]] != 0 {
				ev++
			}
			if isWord(v[i]) && (i == 0 || !isWord(v[i-1])) {
				words++
			}
		}
	}
	fmt.Println("bytes", tot, "interesting bytes", ev, "words", words)
}
