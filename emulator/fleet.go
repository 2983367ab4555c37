package emulator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flow-infra/flow/emulator/internal/store"
	"github.com/flow-infra/flow/emulator/internal/wire"
)

// Instance metadata for a fleet: each instance's metadata is served on a port of its own, so a
// process given AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:PORT sees that instance, as a
// process on the instance sees it at 169.254.169.254. The SDKs replace the path of that setting,
// so the instance has to travel in the address; a port works on every system, where extra
// loopback addresses (127.0.0.2, ...) work on Linux only.
//
// The ports are kept in the state document "imds-endpoints", so `flow local` can print them and a
// restarted emulator opens the same ones again (unless something else took a port meanwhile).

// How often ServeInstances looks for instances launched or terminated by other processes; after
// an EC2 request to this emulator it looks at once.
const instanceSyncEvery = 250 * time.Millisecond

// endpointState is the document "imds-endpoints".
type endpointState struct {
	Host  string         `json:"host"`  // the address the ports are opened on
	Ports map[string]int `json:"ports"` // by instance id
}

// fleet is the per-instance metadata service's part of an Emulator.
type fleet struct {
	doc   *store.Doc[endpointState]
	nudge chan struct{} // holds a token when an EC2 request may have launched or ended instances

	mu     sync.Mutex
	byPort map[int]string // the instance each open port answers as
}

func openFleet(dir string) (*fleet, error) {
	doc, err := store.Open[endpointState](dir, "imds-endpoints", nil)
	if err != nil {
		return nil, err
	}
	return &fleet{doc: doc, nudge: make(chan struct{}, 1), byPort: map[int]string{}}, nil
}

func (f *fleet) Close() error { return f.doc.Close() }

// poke tells ServeInstances to look at the instances now rather than at its next tick.
func (f *fleet) poke() {
	select {
	case f.nudge <- struct{}{}:
	default:
	}
}

// InstanceEndpoints returns, by instance id, the URL at which ServeInstances answers instance
// metadata as that instance: what AWS_EC2_METADATA_SERVICE_ENDPOINT should say on it. The URLs
// answer while a process serving this state directory runs ServeInstances (flow emulate does);
// an instance it has not seen yet has none.
func (e *Emulator) InstanceEndpoints(ctx context.Context) (map[string]string, error) {
	urls := map[string]string{}
	err := e.fleet.doc.View(ctx, func(st *endpointState) error {
		for id, port := range st.Ports {
			urls[id] = endpointURL(st.Host, port)
		}
		return nil
	})
	return urls, err
}

func endpointURL(host string, port int) string {
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // listening everywhere: loopback is one of the addresses
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// InstanceServing configures ServeInstances.
type InstanceServing struct {
	// Host is the address the ports are opened on.
	Host string
	// Wrap, if not nil, wraps the handler of every port (a Host check, a request log).
	Wrap func(http.Handler) http.Handler
	// IdleTimeout is how long a connection may sit idle before it is closed; 0 means never.
	IdleTimeout time.Duration
	// Report is told of problems with a port (it cannot be opened), which are tried again
	// later; nil drops them.
	Report func(error)
}

// ServeInstances serves instance metadata as each instance that is not terminated, on a port of
// its own on how.Host, until ctx is done; then it closes them and returns nil. It opens a port
// for an instance as soon as it sees it (instances launched through this emulator at once, the
// ones other processes launch within a quarter of a second) and closes it once the instance is
// terminated.
func (e *Emulator) ServeInstances(ctx context.Context, how InstanceServing) error {
	var h http.Handler = http.HandlerFunc(e.serveInstance)
	if how.Wrap != nil {
		h = how.Wrap(h)
	}
	if how.Report == nil {
		how.Report = func(error) {}
	}
	host, report := how.Host, how.Report
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: how.IdleTimeout}
	open := map[string]net.Listener{}
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
		for _, ln := range open {
			ln.Close() // one whose Serve had not started yet
		}
	}()
	tick := time.NewTicker(instanceSyncEvery)
	defer tick.Stop()
	for {
		if err := e.syncInstances(ctx, srv, host, open); err != nil && ctx.Err() == nil {
			report(err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-e.fleet.nudge:
		}
	}
}

// syncInstances opens a port for each live instance that has none, closes those of instances
// gone, and records the ports when they changed.
func (e *Emulator) syncInstances(ctx context.Context, srv *http.Server, host string, open map[string]net.Listener) error {
	ids, err := e.ec2.LiveInstanceIDs(ctx)
	if err != nil {
		return fmt.Errorf("instance metadata: list the instances: %w", err)
	}
	var recorded endpointState
	if err := e.fleet.doc.View(ctx, func(st *endpointState) error {
		recorded = endpointState{Host: st.Host, Ports: maps.Clone(st.Ports)}
		return nil
	}); err != nil {
		return fmt.Errorf("instance metadata: read the ports: %w", err)
	}
	live := make(map[string]bool, len(ids))
	for _, id := range ids {
		live[id] = true
	}
	var errs []error
	e.fleet.mu.Lock()
	for id, ln := range open {
		if !live[id] {
			delete(e.fleet.byPort, port(ln))
			delete(open, id)
			ln.Close()
		}
	}
	for _, id := range ids {
		if open[id] != nil {
			continue
		}
		ln, err := listenOn(host, recorded.Ports[id], recorded.Host == host)
		if err != nil {
			errs = append(errs, fmt.Errorf("instance metadata for %s: %w", id, err))
			continue
		}
		open[id] = ln
		e.fleet.byPort[port(ln)] = id
		go srv.Serve(ln)
	}
	e.fleet.mu.Unlock()

	want := make(map[string]int, len(open))
	for id, ln := range open {
		want[id] = port(ln)
	}
	if recorded.Host != host || !maps.Equal(recorded.Ports, want) {
		if err := e.fleet.doc.Update(ctx, func(st *endpointState) error {
			st.Host, st.Ports = host, want
			return nil
		}); err != nil {
			errs = append(errs, fmt.Errorf("instance metadata: record the ports: %w", err))
		}
	}
	return errors.Join(errs...)
}

// listenOn opens a port on host: the one the instance had, when it had one there and it is free,
// or else any free one.
func listenOn(host string, had int, sameHost bool) (net.Listener, error) {
	if had != 0 && sameHost {
		if ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(had))); err == nil {
			return ln, nil
		}
	}
	return net.Listen("tcp", net.JoinHostPort(host, "0"))
}

func port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// serveInstance answers a request that came to an instance's own port, as that instance.
func (e *Emulator) serveInstance(w http.ResponseWriter, r *http.Request) {
	var id string
	if addr, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); ok {
		e.fleet.mu.Lock()
		id = e.fleet.byPort[addr.Port]
		e.fleet.mu.Unlock()
	}
	switch {
	case id == "":
		http.Error(w, "flow emulator: this port no longer answers for an instance (it was terminated)", http.StatusNotFound)
	case !strings.HasPrefix(r.URL.Path, "/latest/") && r.URL.Path != "/latest":
		http.Error(w, fmt.Sprintf("flow emulator: this port is instance %s's metadata service: it answers /latest/... only; "+
			"the AWS APIs are served on the emulator's main address", id), http.StatusNotFound)
	default:
		rec := wire.RecordOf(r.Context())
		rec.Service, rec.Operation = "imds", r.URL.Path
		e.serve(w, r, e.imds, e.imds.As(id), "imds", id)
	}
}
