package livepage

import (
	"embed"
	"io/fs"
)

// web holds the page: index.html, app.js, app.css. Hand-written, no build
// step: the binary embeds exactly what is in the repository.
//
//go:embed web
var web embed.FS

// Static is the page's assets, rooted at web/ (index.html, app.js, ...).
func Static() fs.FS {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the directory is embedded above; it always exists
	}
	return sub
}
