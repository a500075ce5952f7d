//go:build !race

package forgetextension

const raceEnabled = false
