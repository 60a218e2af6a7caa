// fluxapply applies manifest files the way Flux's kustomize-controller does, with its
// server-side apply library (github.com/fluxcd/pkg/ssa): field manager kustomize-controller,
// objects normalized as Flux normalizes them, ApplyAllStaged (Namespaces and CRDs first),
// forced ownership, no apply when the server-side dry-run shows no drift, and kubectl's
// field managers and last-applied annotation cleaned up before each apply. The
// statefulset-canary tests use it as a real Flux applier beside apply: false.
//
//	fluxapply --kubeconfig PATH --namespace NS [--owner NAMESPACE/NAME] FILE...
//
// Prints one line per object (`StatefulSet/ns/db configured`), as kustomize-controller logs
// its change set.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// kustomize-controller's name, its field manager (r.ControllerName).
	controllerName = "kustomize-controller"
	// kustomizev1.GroupVersion.Group, the prefix of its owner labels and selectors.
	group = "kustomize.toolkit.fluxcd.io"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file (required)")
	namespace := flag.String("namespace", "", "namespace for namespaced objects that name none (the Kustomization's targetNamespace)")
	owner := flag.String("owner", "", "NAMESPACE/NAME of a Kustomization: sets kustomize-controller's owner labels")
	timeout := flag.Duration("timeout", time.Minute, "give up after this long")
	flag.Parse()
	if *kubeconfig == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: fluxapply --kubeconfig PATH --namespace NS [--owner NAMESPACE/NAME] FILE...")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *kubeconfig, *namespace, *owner, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "fluxapply: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kubeconfig, namespace, owner string, files []string) error {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	kube, err := client.New(config, client.Options{})
	if err != nil {
		return err
	}
	objects, err := readObjects(files)
	if err != nil {
		return err
	}
	if err := setNamespace(kube, objects, namespace); err != nil {
		return err
	}
	poller := polling.NewStatusPoller(kube, kube.RESTMapper(), polling.Options{})
	manager := ssa.NewResourceManager(kube, poller, ssa.Owner{Field: controllerName, Group: group})
	if owner != "" {
		ns, name, ok := strings.Cut(owner, "/")
		if !ok {
			return fmt.Errorf("--owner %q: want NAMESPACE/NAME", owner)
		}
		manager.SetOwnerLabels(objects, name, ns)
	}
	if err := normalize.UnstructuredList(objects); err != nil {
		return err
	}
	changeSet, err := manager.ApplyAllStaged(ctx, objects, applyOptions())
	if changeSet != nil {
		for _, entry := range changeSet.Entries {
			fmt.Println(entry.String())
		}
	}
	return err
}

func readObjects(files []string) ([]*unstructured.Unstructured, error) {
	var objects []*unstructured.Unstructured
	for _, path := range files {
		file, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		read, err := ssautil.ReadObjects(file)
		file.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		objects = append(objects, read...)
	}
	return objects, nil
}

// setNamespace gives namespaced objects without a namespace the given one, as kustomize's
// namespace transformer does for a Kustomization's targetNamespace.
func setNamespace(kube client.Client, objects []*unstructured.Unstructured, namespace string) error {
	for _, object := range objects {
		if object.GetNamespace() != "" || namespace == "" {
			continue
		}
		namespaced, err := kube.IsObjectNamespaced(object)
		if err != nil {
			return fmt.Errorf("%s: %w", ssautil.FmtUnstructured(object), err)
		}
		if namespaced {
			object.SetNamespace(namespace)
		}
	}
	return nil
}

// applyOptions are kustomize-controller's (its apply function in
// internal/controller/kustomization_controller.go): selectors on its own annotations, and the
// cleanup that takes over what kubectl (client-side or server-side) and the controller's own
// pre-SSA updates owned, and drops kubectl's last-applied annotation.
func applyOptions() ssa.ApplyOptions {
	options := ssa.DefaultApplyOptions()
	options.ExclusionSelector = map[string]string{
		group + "/reconcile": "disabled",
		group + "/ssa":       "Ignore",
	}
	options.IfNotPresentSelector = map[string]string{group + "/ssa": "IfNotPresent"}
	options.ForceSelector = map[string]string{group + "/force": "enabled"}
	options.Cleanup = ssa.ApplyCleanupOptions{
		Annotations: []string{
			corev1.LastAppliedConfigAnnotation,
			group + "/checksum",
			"fluxcd.io/sync-checksum",
		},
		Labels: []string{"fluxcd.io/sync-gc-mark"},
		FieldManagers: []ssa.FieldManager{
			// kubectl apply --server-side (names are prefixes: kubectl also matches
			// kubectl-client-side-apply and kubectl-edit)
			{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationApply},
			// kubectl apply (client-side), kubectl edit, kubectl patch
			{Name: "kubectl", OperationType: metav1.ManagedFieldsOperationUpdate},
			{Name: "before-first-apply", OperationType: metav1.ManagedFieldsOperationUpdate},
			// the controller's own updates from before it applied server-side
			{Name: controllerName, OperationType: metav1.ManagedFieldsOperationUpdate},
		},
		Exclusions: map[string]string{group + "/ssa": "Merge"},
	}
	return options
}
