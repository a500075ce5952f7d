// Package pipelineerr marks the pipeline errors a receiver may show to the
// client whose data caused them. A component's error text is not shown by
// default: it may quote the data, and the data may hold personal
// information. A component whose message is made only of fixed phrases,
// counts, names from the configuration and Pulse's own label names wraps it
// with Public, naming its stage; the analytics receiver then puts the stage
// and the text in its answer instead of a generic one.
package pipelineerr // import "github.com/pulse-otel/pulse/internal/pipelineerr"

import (
	"errors"
	"strings"
)

// publicError is an error whose text is safe to show to a client.
type publicError struct {
	stage string
	err   error
}

func (e *publicError) Error() string { return e.stage + ": " + e.err.Error() }
func (e *publicError) Unwrap() error { return e.err }

// Public marks err as safe to show to clients, from the stage that wrote it
// ("promstore", "privacy processor"). Wrap it in consumererror.NewPermanent
// as usual; the mark survives wrapping with %w.
func Public(stage string, err error) error {
	if err == nil {
		return nil
	}
	return &publicError{stage: stage, err: err}
}

// Describe returns the stage and the text of the first public error in
// err's chain.
func Describe(err error) (stage, text string, ok bool) {
	var pe *publicError
	if !errors.As(err, &pe) {
		return "", "", false
	}
	return pe.stage, strings.TrimPrefix(pe.err.Error(), pe.stage+": "), true
}
