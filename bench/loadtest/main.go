// Command loadtest drives a convnet serve instance with concurrent
// batch-1 infer requests and reports throughput, latency percentiles,
// errors and the server's resident memory.
//
//	go run ./bench/loadtest --url http://127.0.0.1:8080 --pid PID
//
// Each of --clients goroutines sends requests back to back over its own
// keep-alive connection until --requests have been sent in all (after
// --warmup unmeasured ones). Every input is a 28×28×1 image of seeded
// pseudo-random values in [0, 1). With --pid it reads VmRSS from
// /proc/PID/status before the run and after every tenth of it, so a leak
// shows as a rising series, and the server's CPU time over the measured
// requests from /proc/PID/stat: on a machine shared with other work the
// CPU per request says more than the requests per second.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "server `URL`")
	model := flag.String("model", "convnet", "model `NAME`")
	clients := flag.Int("clients", 32, "concurrent clients")
	requests := flag.Int("requests", 100_000, "measured requests in all")
	warmup := flag.Int("warmup", 2_000, "unmeasured requests first")
	pid := flag.Int("pid", 0, "server `PID` whose VmRSS to report (0: none)")
	flag.Parse()
	if *clients < 1 || *requests < 1 || *warmup < 0 {
		fmt.Fprintln(os.Stderr, "loadtest: --clients and --requests must be at least 1, --warmup at least 0")
		os.Exit(2)
	}
	if err := run(*url, *model, *clients, *requests, *warmup, *pid); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// rss returns the VmRSS line of /proc/PID/status in KiB.
func rss(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// cpuTime returns the user+system CPU time of process pid from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields resume after ")".
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc stat format")
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// selfCPU returns this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// body returns an infer request for one seeded pseudo-random image.
func body(seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	data := make([]float32, 28*28)
	for i := range data {
		data[i] = r.Float32()
	}
	b, _ := json.Marshal(map[string]any{"inputs": []map[string]any{{
		"name": "input", "shape": []int{1, 28, 28, 1}, "datatype": "FP32", "data": data}}})
	return b
}

func run(url, model string, clients, requests, warmup, pid int) error {
	endpoint := url + "/v2/models/" + model + "/infer"
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i] = body(uint64(i))
	}
	if err := waitReady(url, 30*time.Second); err != nil {
		return err
	}
	transport := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	var next atomic.Int64
	var mu sync.Mutex
	errs := map[string]int{}
	latencies := make([]time.Duration, requests)
	total := int64(warmup + requests)
	var rssSeries []int
	if pid > 0 {
		kb, err := rss(pid)
		if err != nil {
			return err
		}
		rssSeries = append(rssSeries, kb)
	}
	var measuredStart time.Time
	var serverCPU0, selfCPU0 time.Duration
	var startOnce sync.Once
	progress := make(chan int64, 16)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				if i == int64(warmup) {
					startOnce.Do(func() {
						measuredStart, selfCPU0 = time.Now(), selfCPU()
						if pid > 0 {
							serverCPU0, _ = cpuTime(pid)
						}
					})
				}
				t0 := time.Now()
				err := infer(client, endpoint, bodies[(int(i)+c)%len(bodies)])
				d := time.Since(t0)
				if i >= int64(warmup) {
					latencies[i-int64(warmup)] = d
					if err != nil {
						mu.Lock()
						errs[err.Error()]++
						mu.Unlock()
					}
					if m := i - int64(warmup) + 1; m%int64(max(requests/10, 1)) == 0 {
						progress <- m
					}
				}
			}
		})
	}
	go func() { wg.Wait(); close(progress) }()
	for range progress {
		if pid > 0 {
			if kb, err := rss(pid); err == nil {
				rssSeries = append(rssSeries, kb)
			}
		}
	}
	elapsed := time.Since(measuredStart)
	clientCPU := selfCPU() - selfCPU0
	var serverCPU time.Duration
	if pid > 0 {
		t, err := cpuTime(pid)
		if err != nil {
			return err
		}
		serverCPU = t - serverCPU0
	}

	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[min(int(p*float64(len(latencies))), len(latencies)-1)] }
	nErr := 0
	for _, n := range errs {
		nErr += n
	}
	fmt.Printf("requests %d (after %d warm-up) from %d clients in %.2f s\n", requests, warmup, clients, elapsed.Seconds())
	fmt.Printf("throughput %.0f req/s\n", float64(requests)/elapsed.Seconds())
	fmt.Printf("latency p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n",
		ms(pct(0.50)), ms(pct(0.90)), ms(pct(0.99)), ms(latencies[len(latencies)-1]))
	fmt.Printf("errors %d\n", nErr)
	for e, n := range errs {
		fmt.Printf("  %d × %s\n", n, e)
	}
	if pid > 0 {
		var parts []string
		for _, kb := range rssSeries {
			parts = append(parts, fmt.Sprintf("%.1f", float64(kb)/1024))
		}
		fmt.Printf("server CPU %.1f s (%.3f ms per request, %.2f cores busy); load generator CPU %.1f s\n",
			serverCPU.Seconds(), ms(serverCPU)/float64(requests), serverCPU.Seconds()/elapsed.Seconds(), clientCPU.Seconds())
		fmt.Printf("server RSS MiB (start, then every %d requests): %s\n", max(requests/10, 1), strings.Join(parts, " "))
	}
	return nil
}

// waitReady polls GET /v2/health/ready until it answers 200.
func waitReady(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		r, err := http.Get(url + "/v2/health/ready")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %v", url, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// infer sends one request and checks the answer is a 200 with outputs.
func infer(c *http.Client, url string, b []byte) error {
	r, err := c.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer r.Body.Close()
	resp, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if r.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %.200s", r.StatusCode, resp)
	}
	if !bytes.Contains(resp, []byte(`"probabilities"`)) {
		return fmt.Errorf("answer without probabilities: %.200s", resp)
	}
	return nil
}
