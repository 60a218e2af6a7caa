// Command app is the test app of the local cluster's real nodes: one static binary whose
// behaviour the tests choose through environment variables (all optional), so one image serves
// a healthy database pod, a crash-looping one, a slow starter and a slow stopper.
//
//	PORT=8080           the port it serves on
//	CRASH_AT_START=msg  write msg to stderr and exit 1 at once (CrashLoopBackOff)
//	EXIT_AFTER=30s      serve, then write a line to stderr and exit 1 after that long
//	START_DELAY=5s      wait that long before serving (a slow start)
//	STOP_DELAY=10s      on SIGTERM, keep serving that long before stopping (a slow stop)
//	READY=false         GET /ready answers 503 from the start (POST /ready?ready=true|false toggles)
//	ERROR_RATE=0.25     that share of GET / requests answers 500 (every k-th, deterministic)
//	DATA_DIR=/data      on first start, write a marker file there; GET /marker serves what it finds
//	VERSION=v1          a word the app reports in /healthz and writes in its marker
//
// Endpoints: /healthz (200 {"status":"ok","pod":...,"version":...}), /ready, / (counted),
// /metrics (Prometheus text: app_requests_total by code), /marker.
//
// The image holds nothing but this binary, so exec and lifecycle hooks run it too:
//
//	/app sleep 10s            sleep, then exit 0 (a preStop hook that takes time)
//	/app get http://...       print the body of a GET and exit 0 on a 2xx (an exec check)
//	/app cat /data/marker     print a file (also /app print FILE)
//	/app exit 3               print a line to stdout and one to stderr, then exit 3 (a failing Job)
//
// And a small primary/replica database, its state in files of ROLE_DIR, a directory every pod
// shares (the real nodes run on one machine, so a hostPath volume is the same for all):
//
//	/app role                 print primary if $ROLE_DIR/primary holds this pod's name, else replica
//	/app is-primary           exit 0 if this pod is the primary, 1 if not
//	/app lag                  print {"lagSeconds": N, "pod": "<pod>"}, N from $ROLE_DIR/lag-<pod> (0 if none)
//	/app switchover TO        make pod TO the primary (write and rename $ROLE_DIR/primary)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		os.Exit(command(os.Args[1:]))
	}
	if msg := os.Getenv("CRASH_AT_START"); msg != "" {
		fmt.Fprintf(os.Stderr, "fatal: %s\n", msg)
		os.Exit(1)
	}
	if err := serve(); err != nil {
		fmt.Fprintln(os.Stderr, "fatal:", err)
		os.Exit(1)
	}
}

// command runs one of the subcommands that exec and lifecycle hooks use.
func command(args []string) int {
	switch {
	case args[0] == "sleep" && len(args) == 2:
		d, err := time.ParseDuration(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Printf("sleeping %s\n", d)
		time.Sleep(d)
		return 0
	case args[0] == "get" && len(args) == 2:
		return get(args[1])
	case args[0] == "exit" && len(args) == 2:
		code, err := strconv.Atoi(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Printf("exiting with code %d\n", code)
		fmt.Fprintf(os.Stderr, "exit %d on purpose\n", code)
		return code
	case args[0] == "role" && len(args) == 1:
		primary, err := isPrimary()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Println(map[bool]string{true: "primary", false: "replica"}[primary])
		return 0
	case args[0] == "is-primary" && len(args) == 1:
		primary, err := isPrimary()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		if !primary {
			return 1
		}
		return 0
	case args[0] == "lag" && len(args) == 1:
		return lag()
	case args[0] == "switchover" && len(args) <= 2:
		to := ""
		if len(args) == 2 {
			to = args[1]
		}
		return switchover(to)
	case (args[0] == "cat" || args[0] == "print") && len(args) == 2:
		content, err := os.ReadFile(args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Stdout.Write(content)
		return 0
	}
	fmt.Fprintln(os.Stderr, "usage: app [sleep DURATION | get URL | cat FILE | exit N | role | is-primary | lag | switchover POD]")
	return 2
}

// roleDir is where the roles live; it must be set (see realApp's roleDir in test/support).
func roleDir() (string, error) {
	dir := os.Getenv("ROLE_DIR")
	if dir == "" {
		return "", errors.New("ROLE_DIR is not set")
	}
	return dir, nil
}

// isPrimary says whether $ROLE_DIR/primary names this pod; a missing file names none.
func isPrimary() (bool, error) {
	dir, err := roleDir()
	if err != nil {
		return false, err
	}
	pod, _ := os.Hostname()
	content, err := os.ReadFile(filepath.Join(dir, "primary"))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(string(content)) == pod, nil
}

func lag() int {
	dir, err := roleDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	pod, _ := os.Hostname()
	seconds := 0.0
	content, err := os.ReadFile(filepath.Join(dir, "lag-"+pod))
	if err == nil {
		seconds, err = strconv.ParseFloat(strings.TrimSpace(string(content)), 64)
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("{\"lagSeconds\": %s, \"pod\": %q}\n", strconv.FormatFloat(seconds, 'f', -1, 64), pod)
	return 0
}

// switchover writes the new primary's name beside the file and renames it over, so a reader
// sees the old name or the new one, never a part.
func switchover(to string) int {
	if to == "" {
		fmt.Fprintln(os.Stderr, "switchover: name the pod to make primary: /app switchover POD")
		return 1
	}
	dir, err := roleDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	file := filepath.Join(dir, "primary")
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	temp, err := os.CreateTemp(dir, ".primary-*")
	if err == nil {
		_, err = temp.WriteString(to + "\n")
		if closeErr := temp.Close(); err == nil {
			err = closeErr
		}
	}
	if err == nil {
		err = os.Rename(temp.Name(), file)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "switchover:", err)
		return 1
	}
	from := strings.TrimSpace(string(old))
	if from == "" {
		from = "none"
	}
	fmt.Printf("switchover from %s to %s\n", from, to)
	return 0
}

func get(url string) int {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(os.Stdout, resp.Body)
	if resp.StatusCode/100 != 2 {
		fmt.Fprintf(os.Stderr, "GET %s: %s\n", url, resp.Status)
		return 1
	}
	return 0
}

type app struct {
	pod, version string
	errorEvery   int
	marker       string
	mu           sync.Mutex
	ready        bool
	requests     map[int]int
	served       int
}

func newApp() (*app, error) {
	pod, _ := os.Hostname()
	a := &app{pod: pod, version: os.Getenv("VERSION"), ready: os.Getenv("READY") != "false", requests: map[int]int{}}
	if rate := os.Getenv("ERROR_RATE"); rate != "" {
		r, err := strconv.ParseFloat(rate, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("ERROR_RATE %q is not a share between 0 and 1", rate)
		}
		if r > 0 {
			a.errorEvery = max(1, int(1/r+0.5))
		}
	}
	if dir := os.Getenv("DATA_DIR"); dir != "" {
		a.marker = filepath.Join(dir, "marker")
		if err := a.writeMarker(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// writeMarker writes "<pod> <version>" to the marker file unless it is already there.
func (a *app) writeMarker() error {
	if _, err := os.Stat(a.marker); err == nil {
		content, _ := os.ReadFile(a.marker)
		fmt.Printf("found marker %s: %s\n", a.marker, content)
		return nil
	}
	content := fmt.Sprintf("%s %s\n", a.pod, a.version)
	if err := os.WriteFile(a.marker, []byte(content), 0o644); err != nil {
		return fmt.Errorf("writing the marker: %w", err)
	}
	fmt.Printf("wrote marker %s: %s", a.marker, content)
	return nil
}

func durationEnv(name string) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a duration such as 10s", name, v)
	}
	return d, nil
}

func serve() error {
	startDelay, err := durationEnv("START_DELAY")
	if err != nil {
		return err
	}
	stopDelay, err := durationEnv("STOP_DELAY")
	if err != nil {
		return err
	}
	exitAfter, err := durationEnv("EXIT_AFTER")
	if err != nil {
		return err
	}
	if startDelay > 0 {
		fmt.Printf("starting slowly: %s\n", startDelay)
		time.Sleep(startDelay)
	}
	a, err := newApp()
	if err != nil {
		return err
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	server := &http.Server{Addr: ":" + port, Handler: a.routes(), ReadHeaderTimeout: 5 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	failed := make(chan error, 1)
	go func() {
		if err := server.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			failed <- err
		}
	}()
	fmt.Printf("serving on :%s (pod %s, version %q)\n", port, a.pod, a.version)
	var exit <-chan time.Time
	if exitAfter > 0 {
		exit = time.After(exitAfter)
	}
	select {
	case err := <-failed:
		return err
	case <-exit:
		return fmt.Errorf("exiting after %s as EXIT_AFTER says", exitAfter)
	case sig := <-stop:
		fmt.Printf("got %s; stopping in %s\n", sig, stopDelay)
		time.Sleep(stopDelay)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = server.Shutdown(ctx)
	fmt.Println("stopped")
	return nil
}

func (a *app) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"status\":\"ok\",\"pod\":%q,\"version\":%q}\n", a.pod, a.version)
	})
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		a.mu.Lock()
		ready := a.ready
		a.mu.Unlock()
		if !ready {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("POST /ready", func(w http.ResponseWriter, r *http.Request) {
		ready, err := strconv.ParseBool(r.URL.Query().Get("ready"))
		if err != nil {
			http.Error(w, "ready=true or ready=false", http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.ready = ready
		a.mu.Unlock()
		fmt.Fprintf(w, "ready=%t\n", ready)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		a.mu.Lock()
		a.served++
		code := http.StatusOK
		if a.errorEvery > 0 && a.served%a.errorEvery == 0 {
			code = http.StatusInternalServerError
		}
		a.requests[code]++
		a.mu.Unlock()
		w.WriteHeader(code)
		fmt.Fprintf(w, "%d from %s\n", code, a.pod)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprintln(w, "# HELP app_requests_total Requests to / by status code.")
		fmt.Fprintln(w, "# TYPE app_requests_total counter")
		for _, code := range []int{http.StatusOK, http.StatusInternalServerError} {
			fmt.Fprintf(w, "app_requests_total{code=\"%d\"} %d\n", code, a.requests[code])
		}
	})
	mux.HandleFunc("GET /marker", func(w http.ResponseWriter, _ *http.Request) {
		if a.marker == "" {
			http.Error(w, "no DATA_DIR", http.StatusNotFound)
			return
		}
		content, err := os.ReadFile(a.marker)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		_, _ = w.Write(content)
	})
	return mux
}
