package emulator

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// CheckHost guards next against DNS rebinding: a web page in the user's browser whose own name
// is made to resolve to the emulator's address. Such a request carries the page's host name in
// Host, so next answers only requests whose Host names the address the request came in on (the
// listener's own local address, whatever listener it is), localhost, 127.0.0.1 or [::1] with
// that port, or the instance metadata addresses 169.254.169.254 and [fd00:ec2::254]. Any other
// Host gets a 421 Misdirected Request whose body says which hosts are answered.
//
// It is for servers on a network listener; a request served in-process (Transport) has no
// listener and needs no guard.
func CheckHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		if local == nil || hostAllowed(r.Host, local.String()) {
			next.ServeHTTP(w, r)
			return
		}
		http.Error(w, fmt.Sprintf("flow emulate: refused a request for host %q: it answers only requests addressed to %s "+
			"(or instance metadata's 169.254.169.254), so that a web page cannot reach it by DNS rebinding; "+
			"use one of those in the endpoint URL", r.Host, strings.Join(allowedHosts(local.String()), ", ")), http.StatusMisdirectedRequest)
	})
}

// allowedHosts lists, for the refusal's message, the hosts a listener at local answers.
func allowedHosts(local string) []string {
	hosts := []string{local}
	_, port, _ := net.SplitHostPort(local)
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if h := net.JoinHostPort(name, port); h != local {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// hostAllowed reports whether a request's Host may be answered by a listener at local
// (host:port). A Host without a port means port 80, as HTTP says.
func hostAllowed(host, local string) bool {
	name, port, err := net.SplitHostPort(host)
	if err != nil {
		name, port = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "80"
	}
	name = strings.ToLower(name)
	if name == "169.254.169.254" || name == "fd00:ec2::254" {
		// Instance metadata's addresses on EC2, IPv4 and IPv6: no web page has them as its
		// origin, so a request naming them is no rebinding attack.
		return true
	}
	localName, localPort, err := net.SplitHostPort(local)
	if err != nil || port != localPort {
		return false
	}
	switch name {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	a, b := net.ParseIP(name), net.ParseIP(localName)
	return a != nil && b != nil && a.Equal(b)
}
