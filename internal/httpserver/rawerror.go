package httpserver

import (
	"bytes"
	"net/http"
	"strconv"
)

// net/http answers a few malformed requests itself, before any handler, by
// writing a fixed plain-text response straight to the connection: a
// request line or header that is not HTTP (400), headers over
// MaxHeaderBytes (431), an unknown Transfer-Encoding (501), an HTTP
// version it does not serve (505). Each is one Write of exactly
//
//	HTTP/1.1 <code> <text>\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n<body>
//
// with no Date header, which no handler's response can look like (net/http
// adds Date to those). limitConn recognises that write and sends the same
// status as the listener's JSON error instead. Over TLS the write is
// encrypted before it reaches limitConn, so those answers stay plain text.
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// rawError returns the JSON replacement of one of net/http's own error
// responses, or nil when b is not one.
func rawError(b []byte, write func(w http.ResponseWriter, status int, msg string)) []byte {
	if write == nil || !bytes.HasPrefix(b, []byte("HTTP/1.1 ")) || len(b) < 12 {
		return nil
	}
	eol := bytes.IndexByte(b, '\r')
	if eol < 0 || !bytes.HasPrefix(b[eol:], []byte(netHTTPErrorHeaders)) {
		return nil
	}
	status, err := strconv.Atoi(string(b[9:12]))
	if err != nil || status < 400 {
		return nil
	}
	body := string(b[eol+len(netHTTPErrorHeaders):])
	var msg string
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		msg = "request headers larger than " + strconv.Itoa(MaxHeaderBytes>>10) + " KiB"
	case http.StatusNotImplemented:
		msg = "unsupported Transfer-Encoding (only chunked)"
	case http.StatusHTTPVersionNotSupported:
		msg = "unsupported HTTP version"
	case http.StatusBadRequest:
		// net/http's details are fixed texts ("missing required Host
		// header", "invalid header name"): never client input.
		msg = "malformed HTTP request"
		if _, detail, ok := bytes.Cut([]byte(body), []byte(": ")); ok {
			msg += ": " + string(detail)
		}
	default:
		msg = http.StatusText(status)
	}
	rec := &recorder{header: http.Header{}}
	write(rec, status, msg)
	var out bytes.Buffer
	out.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	ct := rec.header.Get("Content-Type")
	if ct == "" {
		ct = "application/json"
	}
	out.WriteString("Content-Type: " + ct + "\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(rec.body.Len()) + "\r\n\r\n")
	out.Write(rec.body.Bytes())
	return out.Bytes()
}

// recorder captures a listener's error answer.
type recorder struct {
	header http.Header
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(int)             {}
