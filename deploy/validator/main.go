// Command validator checks the deployment files under deploy/ offline, for deploy/validate:
// where the real tools need a server or the network (kubectl apply, kubeconform's schemas from
// GitHub, docker compose), it uses the libraries those tools are built on.
//
//	validator kubernetes DIR...           each kustomization.yaml's resources, decoded strictly
//	                                      into the typed Kubernetes API objects, then checked
//	validator helm-values FILE            the NATS chart's values: auth, no password in clear
//	validator compose ENVFILE FILE...     compose files through compose-go (docker compose's
//	                                      loader) with the Compose Specification's schema
//	validator grafana DASHBOARD PROVDIR   the dashboard JSON and Grafana's provisioning files
//	validator build-context ROOT DEST     copies what ROOT/.dockerignore lets into the image
//	                                      build's context to DEST (deploy/validate builds it)
//
// It is a module of its own (deploy/validator/go.mod), so its dependencies stay out of the
// ledger module. Every problem is printed; the exit status is 1 when there was any, 2 on misuse.
package main

import (
	"fmt"
	"os"
)

// problems collects what a check found; a check goes on after one so that a run names them all.
type problems struct {
	list []string
}

func (p *problems) addf(format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var p problems
	args := os.Args[2:]
	switch os.Args[1] {
	case "kubernetes":
		if len(args) == 0 {
			usage()
		}
		for _, dir := range args {
			checkKustomization(&p, dir)
		}
	case "helm-values":
		if len(args) != 1 {
			usage()
		}
		checkNATSValues(&p, args[0])
	case "compose":
		if len(args) < 2 {
			usage()
		}
		checkCompose(&p, args[0], args[1:])
	case "grafana":
		if len(args) != 2 {
			usage()
		}
		checkGrafana(&p, args[0], args[1])
	case "build-context":
		if len(args) != 2 {
			usage()
		}
		copyBuildContext(&p, args[0], args[1])
	default:
		usage()
	}
	for _, msg := range p.list {
		fmt.Fprintln(os.Stderr, "FAIL:", msg)
	}
	if len(p.list) > 0 {
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  validator kubernetes DIR...
  validator helm-values FILE
  validator compose ENVFILE FILE...
  validator grafana DASHBOARD.json PROVISIONING-DIR
  validator build-context ROOT DEST`)
	os.Exit(2)
}
