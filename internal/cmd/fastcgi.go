package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/fcgi"
	"sync"

	"github.com/gogf/gf/v2/os/glog"
)

// fastCGI serves the node's routes over FastCGI too, for sites whose nginx
// talks FastCGI to the application. A WebSocket cannot travel over FastCGI,
// so the WebSocket route answers there with the 500 that points at
// manifest/deploy/nginx/template-ws-fastcgi.conf, which sends /ws over
// HTTP instead.
type fastCGI struct {
	address string // fastcgi.address; "" turns FastCGI off

	mu       sync.Mutex
	listener net.Listener
}

func (f *fastCGI) start(ctx context.Context, handler http.Handler) error {
	if f.address == "" {
		return nil
	}
	l, err := net.Listen("tcp", f.address)
	if err != nil {
		return fmt.Errorf("config fastcgi.address: listen on %s: %w", f.address, err)
	}
	f.mu.Lock()
	f.listener = l
	f.mu.Unlock()
	glog.Infof(ctx, "FastCGI serving the HTTP routes on %s; %s is HTTP only", l.Addr(), "the WebSocket route")
	go func() {
		if err := fcgi.Serve(l, handler); err != nil && !errors.Is(err, net.ErrClosed) {
			glog.Errorf(ctx, "FastCGI stopped: %v", err)
		}
	}()
	return nil
}

func (f *fastCGI) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listener != nil {
		_ = f.listener.Close()
		f.listener = nil
	}
}
