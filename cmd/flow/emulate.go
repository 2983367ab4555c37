package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"github.com/flow-infra/flow/emulator"
	"github.com/flow-infra/flow/engine"
	"github.com/flow-infra/flow/internal/atomicfile"
	"github.com/spf13/cobra"
)

// emulatorFlags are the settings of the embedded emulator, shared by `flow emulate` and
// `flow run --local`.
type emulatorFlags struct {
	dir         string
	seed        string
	region      string
	instance    string
	faults      string
	limits      string
	pending     time.Duration
	changeDelay time.Duration
	policy      string // the file of --policy
}

func (f *emulatorFlags) register(cmd *cobra.Command) {
	f.registerState(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.seed, "seed", os.Getenv("FLOW_EMULATOR_SEED"), "make ids and IPs reproducible from `SEED` (env FLOW_EMULATOR_SEED)")
	fl.StringVar(&f.instance, "instance", "", "instance metadata answers as this instance `ID` (default: the most recently launched running instance)")
	fl.StringVar(&f.limits, "limits", "none", "enforce request rates: aws (AWS's default per-account quotas, shared by every process on --local-dir) or none")
	fl.StringVar(&f.faults, "faults", os.Getenv("FLOW_EMULATOR_FAULTS"), "inject faults, `SPEC` = throttle=RATE,error=RATE,latency=DURATION[@RATE] (env FLOW_EMULATOR_FAULTS)")
	fl.DurationVar(&f.pending, "pending", 0, "keep a new instance pending this long, at most 1h, as AWS does (default: running at the next request)")
	fl.DurationVar(&f.changeDelay, "change-delay", 0, "keep a Route 53 change PENDING this long, at most 1h (default: INSYNC at once)")
	fl.StringVar(&f.policy, "policy", "", "evaluate every EC2, SSM and Route 53 request against the identity-based IAM policy in `FILE` (JSON), answering AccessDenied as AWS does (default: allow all)")
}

// maxEmulatorDelay caps --pending and --change-delay: longer than any AWS takes, short enough
// that a typo (1000h) is an error rather than a run that never ends.
const maxEmulatorDelay = time.Hour

// instanceIDPattern is the form of an EC2 instance id: i- and 8 or 17 hex digits.
var instanceIDPattern = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// validate checks the flags before anything is opened or created, so a command-line error leaves
// nothing on disk.
func (f *emulatorFlags) validate() error {
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"pending", f.pending}, {"change-delay", f.changeDelay}} {
		if d.v < 0 || d.v > maxEmulatorDelay {
			return invalid(fmt.Errorf("--%s %s: the delay is between 0 and %s", d.flag, d.v, maxEmulatorDelay), nil)
		}
	}
	if info, err := os.Stat(f.dir); err == nil && !info.IsDir() {
		return invalid(fmt.Errorf("--local-dir %s: not a directory: the emulator keeps its state in a directory (created when missing)", f.dir), nil)
	}
	if err := emulator.CheckRegion(f.region); err != nil {
		return invalid(fmt.Errorf("--region: %w", err), nil)
	}
	if f.instance != "" && !instanceIDPattern.MatchString(f.instance) {
		return invalid(fmt.Errorf("--instance %s: an instance id is i- and 8 or 17 hex digits, e.g. i-0123456789abcdef0", f.instance), nil)
	}
	if _, err := emulator.ParseFaults(f.faults); err != nil {
		return invalid(fmt.Errorf("--faults: %w", err), nil)
	}
	if _, err := emulator.ParseLimits(f.limits); err != nil {
		return invalid(fmt.Errorf("--limits: %w", err), nil)
	}
	_, err := f.readPolicy()
	return err
}

// readPolicy reads and parses the --policy file; nil without one.
func (f *emulatorFlags) readPolicy() (*emulator.Policy, error) {
	if f.policy == "" {
		return nil, nil
	}
	data, err := engine.ReadSource(f.policy)
	if err != nil {
		return nil, invalid(fmt.Errorf("--policy: %w", err), nil)
	}
	p, err := emulator.ParsePolicy(data)
	if err != nil {
		return nil, invalid(fmt.Errorf("--policy %s: %w", f.policy, err), nil)
	}
	return p, nil
}

// registerState registers only the flags that say which emulator state to read: --local-dir and
// --region. A command that launches nothing (flow local) has no use for the others.
func (f *emulatorFlags) registerState(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.dir, "local-dir", ".flow", "the emulator's state `DIR`, shared by every flow process that uses it")
	fl.StringVar(&f.region, "region", "us-east-1", "the `REGION` of unsigned requests and of --local's own clients (flow local: the region shown); a signed request is served in its own")
}

func (f *emulatorFlags) open() (*emulator.Emulator, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	faults, err := emulator.ParseFaults(f.faults)
	if err != nil {
		return nil, invalid(fmt.Errorf("--faults: %w", err), nil)
	}
	limits, err := emulator.ParseLimits(f.limits)
	if err != nil {
		return nil, invalid(fmt.Errorf("--limits: %w", err), nil)
	}
	policy, err := f.readPolicy()
	if err != nil {
		return nil, err
	}
	e, err := emulator.New(emulator.Options{Dir: f.dir, Seed: f.seed, Region: f.region, Instance: f.instance, Faults: faults,
		Limits: limits, PendingFor: f.pending, ChangeDelay: f.changeDelay, Policy: policy})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// idleTimeout is how long flow emulate keeps a client's idle connection open.
const idleTimeout = 15 * time.Second

func (c *cli) emulateCommand() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "emulate",
		Short: "Serve the embedded AWS emulator (EC2, SSM, Route 53, instance metadata) on one port",
		Long: `Serve the embedded AWS emulator on one port: EC2 (Query protocol), SSM Parameter Store
(JSON 1.1), Route 53 (REST-XML) and instance metadata (IMDSv2), with their real wire
protocols and error codes, so the AWS CLI and the SDKs work against it unchanged:

  aws --endpoint-url http://127.0.0.1:4566 ec2 describe-instances
  AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:4566 flow run FILE

Any credentials are accepted (signed or not). The state lives in --local-dir, the same
directory flow run --local uses, and survives restarts.

It listens on loopback; an address beyond it (--listen :4566, 0.0.0.0:4566) needs
--allow-remote. It answers only requests addressed to the address it listens on (or
localhost, 127.0.0.1, [::1] with its port, or instance metadata's 169.254.169.254), so that
a web page cannot reach it by DNS rebinding: others get 421 Misdirected Request.

Each request is logged on stderr as one line (--quiet for none): time, service,
operation, HTTP status, AWS error code, duration. No parameter value or body is logged.

The main address answers instance metadata as --instance (default: the most recently
launched running instance). Each instance also gets a port of its own, on the same host,
that answers as it: flow local shows it (imds_endpoint in flow local -o json), to give one
process per instance as AWS_EC2_METADATA_SERVICE_ENDPOINT. A restart keeps the ports.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			// Listen before the state is opened: an address that cannot be had, or may not be
			// used, creates nothing.
			ln, err := c.listen(f)
			if err != nil {
				return err
			}
			e, err := f.open()
			if err != nil {
				ln.Close()
				return err
			}
			defer e.Close()
			url := "http://" + ln.Addr().String()
			// From here on an interrupt stops the server cleanly: a script that saw the
			// address may send one at once.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if f.addrFile != "" {
				// Atomically, so a script that waits for the file never reads it half written.
				if err := atomicfile.Write(f.addrFile, []byte(url+"\n"), 0o644); err != nil {
					ln.Close()
					return err
				}
			}
			c.banner(f, url, e.Region())
			return c.serve(ctx, ln, e, f.quiet)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:4566", "the `ADDRESS` to serve on (port 0 picks a free one)")
	cmd.Flags().BoolVar(&f.allowRemote, "allow-remote", false, "allow --listen on an address beyond loopback, reachable from other machines")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "log no requests on stderr")
	cmd.Flags().StringVar(&f.addrFile, "addr-file", "", "write the URL served on to `FILE` once listening (for scripts)")
	return cmd
}

// serveFlags are flow emulate's: the emulator's, and where and how it serves.
type serveFlags struct {
	emulatorFlags
	listen, addrFile   string
	allowRemote, quiet bool
}

// listen takes --listen's address, refusing one beyond loopback without --allow-remote: whoever
// reaches the emulator can read its SecureStrings decrypted.
func (c *cli) listen(f serveFlags) (net.Listener, error) {
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return nil, invalid(fmt.Errorf("--listen %s: %w", f.listen, err), nil)
	}
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok || addr.IP.IsLoopback() {
		return ln, nil
	}
	where := addr.String()
	if addr.IP.IsUnspecified() {
		where = fmt.Sprintf("port %d on every interface", addr.Port)
	}
	if !f.allowRemote {
		ln.Close()
		return nil, invalid(fmt.Errorf("--listen %s: %s is reachable from other machines, and whoever reaches it can read and change "+
			"the emulator's state, SecureString values decrypted; add --allow-remote to mean it, or listen on 127.0.0.1", f.listen, where), nil)
	}
	fmt.Fprintf(c.stderr, "flow emulate: warning: listening on %s, beyond loopback (--allow-remote): any machine that reaches it "+
		"can read and change the emulator's state, SecureString values decrypted\n", where)
	return ln, nil
}

// banner tells the user where the emulator serves and the environment that points a client at it.
func (c *cli) banner(f serveFlags, url, region string) {
	fmt.Fprintf(c.stdout, "flow emulate: EC2, SSM, Route 53 and instance metadata on %s (region %s, state in %s)\n", url, region, f.dir)
	fmt.Fprintf(c.stdout, "  export AWS_ENDPOINT_URL=%s AWS_EC2_METADATA_SERVICE_ENDPOINT=%s\n", url, url)
	fmt.Fprintf(c.stdout, "  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=%s AWS_DEFAULT_REGION=%s\n", region, region)
	if f.faults != "" {
		fmt.Fprintf(c.stdout, "  injecting faults: %s\n", f.faults)
	}
	if f.limits == "aws" {
		fmt.Fprintf(c.stdout, "  enforcing AWS's per-account request rates (--limits aws)\n")
	}
	fmt.Fprintf(c.stdout, "  each instance's own metadata address: flow local --local-dir %s\n", f.dir)
}

// serve answers on ln, and on each instance's own metadata port, until ctx ends; then it lets the
// requests in flight finish (up to 5 s).
func (c *cli) serve(ctx context.Context, ln net.Listener, e *emulator.Emulator, quiet bool) error {
	wrap := func(h http.Handler) http.Handler {
		h = emulator.CheckHost(h)
		if !quiet {
			h = emulator.LogRequests(h, c.stderr, nil)
		}
		return h
	}
	// Idle connections are closed, so a fleet's clients cannot pile them up.
	srv := &http.Server{Handler: wrap(e), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: idleTimeout}
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	ctx, stop := context.WithCancel(ctx)
	instances := make(chan struct{})
	go func() {
		defer close(instances)
		e.ServeInstances(ctx, emulator.InstanceServing{Host: host, Wrap: wrap, IdleTimeout: idleTimeout,
			Report: func(err error) { fmt.Fprintf(c.stderr, "flow emulate: %v\n", err) }})
	}()
	defer func() { stop(); <-instances }()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(c.stdout, "flow emulate: stopped")
	return nil
}
