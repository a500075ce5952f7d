package livebench

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// chromiumNames are the headless browsers tried, in order: Debian's
// chromium-headless-shell, then the full chromium (CI installs one).
var chromiumNames = []string{"chromium-headless-shell", "chromium", "/usr/bin/chromium", "google-chrome"}

// Chromium starts one headless Chromium for t and returns a chromedp
// context of its first tab (more tabs: chromedp.NewContext of it). Without
// a Chromium the test is skipped, unless CI=true, where it fails: CI
// installs one and a skip there would hide the browser tests. The browser
// is stopped when the test ends. It lives here, beside the benchmark's own
// pages, so that the e2e browser test starts Chromium the same way.
func Chromium(t testing.TB, width, height int) context.Context {
	t.Helper()
	path := ""
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium in PATH (chromium-headless-shell or chromium); CI must install one")
		}
		t.Skip("no chromium in PATH (chromium-headless-shell or chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(width, height),
		chromedp.DisableGPU,
		chromedp.Flag("hide-scrollbars", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run its sandbox as root
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Do starts the browser; it must run on a context without a
	// deadline, which would end the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}
