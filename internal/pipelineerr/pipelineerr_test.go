package pipelineerr

import (
	"errors"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumererror"
)

func TestDescribe(t *testing.T) {
	err := fmt.Errorf("connector: %w", consumererror.NewPermanent(Public("promstore", errors.New("the TSDB refused 2 of 2 samples"))))
	stage, text, ok := Describe(err)
	if !ok || stage != "promstore" || text != "the TSDB refused 2 of 2 samples" || !consumererror.IsPermanent(err) {
		t.Errorf("Describe = %q %q %v; permanent %v", stage, text, ok, consumererror.IsPermanent(err))
	}
	if _, _, ok := Describe(consumererror.NewPermanent(errors.New("raw text"))); ok {
		t.Error("an unmarked error is described")
	}
	if _, text, _ := Describe(Public("promstore", errors.New("promstore: refused"))); text != "refused" {
		t.Errorf("the stage is repeated: %q", text)
	}
	if Public("x", nil) != nil {
		t.Error("Public(nil) is not nil")
	}
}
