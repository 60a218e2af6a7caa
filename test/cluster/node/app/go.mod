module statefulset-canary/test/cluster/node/app

go 1.26.0
