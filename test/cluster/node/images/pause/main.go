// Command pause is the pod sandbox's process: it holds the pod's namespaces and
// waits until it is told to stop (as the upstream pause image does), reaping
// nothing else since each container runs in its own PID namespace here.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
