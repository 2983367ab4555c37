package emulator

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHostAllowed(t *testing.T) {
	for _, tc := range []struct {
		host, local string
		ok          bool
	}{
		{"127.0.0.1:4566", "127.0.0.1:4566", true},
		{"localhost:4566", "127.0.0.1:4566", true},
		{"LocalHost:4566", "127.0.0.1:4566", true},
		{"[::1]:4566", "127.0.0.1:4566", true},
		{"127.0.0.1:4566", "[::1]:4566", true},
		{"169.254.169.254", "127.0.0.1:4566", true},
		{"169.254.169.254:80", "127.0.0.1:4566", true},
		{"[fd00:ec2::254]", "127.0.0.1:4566", true},
		{"[FD00:EC2::254]:80", "127.0.0.1:4566", true},
		{"192.168.1.5:4566", "192.168.1.5:4566", true}, // a remote listener, named by its address
		{"127.0.0.7:80", "127.0.0.7:80", true},         // a per-instance loopback listener
		{"127.0.0.1", "127.0.0.1:80", true},            // no port: 80
		// A rebinding page's own name, whatever it resolves to.
		{"evil.example:4566", "127.0.0.1:4566", false},
		{"evil.example", "127.0.0.1:80", false},
		{"localhost.evil.example:4566", "127.0.0.1:4566", false},
		// The right name on another port: not this listener.
		{"localhost:4567", "127.0.0.1:4566", false},
		{"127.0.0.1", "127.0.0.1:4566", false},
		{"127.0.0.2:4566", "127.0.0.1:4566", false},
		{"", "127.0.0.1:4566", false},
	} {
		if got := hostAllowed(tc.host, tc.local); got != tc.ok {
			t.Errorf("Host %q on %s: allowed %v, want %v", tc.host, tc.local, got, tc.ok)
		}
	}
}

// Over a real connection: the listener's address and localhost are answered, another name gets
// 421 with a body that says which hosts are answered.
func TestCheckHost(t *testing.T) {
	srv := httptest.NewServer(CheckHost(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "answered")
	})))
	defer srv.Close()
	port := srv.Listener.Addr().String()[strings.LastIndexByte(srv.Listener.Addr().String(), ':')+1:]
	for host, want := range map[string]int{
		"":                       http.StatusOK, // the URL's own host, 127.0.0.1:PORT
		"localhost:" + port:      http.StatusOK,
		"169.254.169.254":        http.StatusOK,
		"rebind.example:" + port: http.StatusMisdirectedRequest,
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/latest/meta-data/", nil)
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %q: %d %s, want %d", host, resp.StatusCode, body, want)
		}
		if want != http.StatusOK && !strings.Contains(string(body), `refused a request for host "rebind.example:`+port+`"`) ||
			want != http.StatusOK && !strings.Contains(string(body), srv.Listener.Addr().String()+", localhost:"+port) {
			t.Errorf("Host %q: the refusal says %q", host, body)
		}
	}
}
