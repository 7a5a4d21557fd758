package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// checkCompose loads each compose file as docker compose (v2) does — compose-go, with the
// Compose Specification's JSON schema, interpolation from envFile and the consistency checks
// (depends_on, networks, volumes, secrets named exist) — and then checks what the schema
// cannot see: the bind-mounted files exist (docker would make a missing one a directory), no
// NATS route or monitoring port is published, NATS only with a password, and every ledgerd has
// a healthcheck and an instance name of its own.
func checkCompose(p *problems, envFile string, files []string) {
	for _, file := range files {
		before := len(p.list)
		dir := filepath.Dir(file)
		opts, err := cli.NewProjectOptions([]string{file},
			cli.WithWorkingDirectory(dir),
			cli.WithEnvFiles(envFile),
			cli.WithDotEnv,
			cli.WithName("ledger-validate"),
		)
		if err != nil {
			p.addf("%s: %v", file, err)
			continue
		}
		project, err := opts.LoadProject(context.Background())
		if err != nil {
			p.addf("%s: %v", file, err)
			continue
		}
		instances := map[string]string{}
		for _, name := range project.ServiceNames() {
			s := project.Services[name]
			where := fmt.Sprintf("%s: service %s", file, name)
			for _, v := range s.Volumes {
				if v.Type != types.VolumeTypeBind {
					continue
				}
				if _, err := os.Stat(v.Source); err != nil {
					p.addf("%s: bind mount %s: %v (docker would make it an empty directory)", where, v.Source, err)
				}
			}
			for _, port := range s.Ports {
				if port.Published == "" {
					continue
				}
				switch port.Target {
				case 6222, 8222:
					p.addf("%s: publishes NATS's route or monitoring port %d to the host", where, port.Target)
				case 4222:
					// A NATS node with nats-cluster.conf (users with passwords) or ledgerd's
					// embedded server with --nats-users.
					if !slices.Contains(s.Command, "/etc/nats/nats-cluster.conf") && !containsPrefix(s.Command, "--nats-users") {
						p.addf("%s: publishes NATS port 4222 without users and passwords", where)
					}
				}
			}
			if s.Build == nil || !strings.HasSuffix(s.Build.Dockerfile, "deploy/Dockerfile") {
				continue
			}
			// A ledgerd.
			if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 || !strings.Contains(strings.Join(s.HealthCheck.Test, " "), "/readyz") {
				p.addf("%s: ledgerd wants a healthcheck on /readyz", where)
			}
			instance := "ledgerd (its hostname)"
			for _, arg := range s.Command {
				if v, ok := strings.CutPrefix(arg, "--instance="); ok {
					instance = v
				}
			}
			if v, ok := s.Environment["LEDGER_INSTANCE"]; ok && v != nil {
				instance = *v
			}
			if other, ok := instances[instance]; ok {
				p.addf("%s: the same instance name %q as %s: their metrics would mix", where, instance, other)
			}
			instances[instance] = name
		}
		if len(p.list) == before {
			fmt.Printf("ok: %s: %d services, valid for compose-go %s\n", file, len(project.Services), "(the Compose Specification)")
		}
	}
}

func containsPrefix(args []string, prefix string) bool {
	return slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, prefix) })
}
