package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// kustomization is the part of kustomize's Kustomization these manifests use; a field outside
// it is refused (decoded strictly), so a typo does not pass silently.
type kustomization struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Namespace  string           `json:"namespace,omitempty"`
	Resources  []string         `json:"resources"`
	Images     []kustomizeImage `json:"images,omitempty"`
}

// kustomizeImage sets the registry and tag of the images called Name.
type kustomizeImage struct {
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// newObject returns the typed object a document of that apiVersion and kind decodes into; a kind
// not listed is refused rather than passed unchecked.
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + "/" + kind {
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "apps/v1/StatefulSet":
		return &appsv1.StatefulSet{}, true
	case "v1/Service":
		return &corev1.Service{}, true
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1/Secret":
		return &corev1.Secret{}, true
	case "v1/ServiceAccount":
		return &corev1.ServiceAccount{}, true
	case "v1/PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, true
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	case "networking.k8s.io/v1/NetworkPolicy":
		return &networkingv1.NetworkPolicy{}, true
	}
	return nil, false
}

// workload is a Deployment or a StatefulSet, as far as the checks across objects need.
type workload struct {
	where    string
	replicas int32
	selector *metav1.LabelSelector
	template corev1.PodTemplateSpec
	claims   []string // volumeClaimTemplates
}

// checkKustomization checks dir/kustomization.yaml and every resource it lists: each document
// decoded strictly into its API type (an unknown or misspelt field, a wrong type or a bad
// quantity fails), then what the API server or the rollout would refuse or get wrong, and the
// rules these manifests keep (no Secret shipped, non-root, probes, no NATS port without users).
func checkKustomization(p *problems, dir string) {
	before := len(p.list)
	kpath := filepath.Join(dir, "kustomization.yaml")
	raw, err := os.ReadFile(kpath)
	if err != nil {
		p.addf("%v", err)
		return
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(raw, &k); err != nil {
		p.addf("%s: %v", kpath, err)
		return
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		p.addf("%s: want apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization", kpath)
	}
	if len(k.Resources) == 0 {
		p.addf("%s: no resources", kpath)
	}
	var workloads []workload
	var services []*corev1.Service
	var budgets []*policyv1.PodDisruptionBudget
	count := 0
	for _, res := range k.Resources {
		file := filepath.Join(dir, res)
		docs, err := readDocuments(file)
		if err != nil {
			p.addf("%s: %v", file, err)
			continue
		}
		for i, doc := range docs {
			where := fmt.Sprintf("%s (document %d)", file, i+1)
			var meta struct {
				metav1.TypeMeta `json:",inline"`
				Metadata        struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				p.addf("%s: %v", where, err)
				continue
			}
			where = fmt.Sprintf("%s: %s %s", file, meta.Kind, meta.Metadata.Name)
			obj, ok := newObject(meta.APIVersion, meta.Kind)
			if !ok {
				p.addf("%s: apiVersion %q kind %q is not one this check knows", where, meta.APIVersion, meta.Kind)
				continue
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				p.addf("%s: %v", where, err)
				continue
			}
			count++
			switch o := obj.(type) {
			case *appsv1.Deployment:
				checkObjectMeta(p, where, o.ObjectMeta)
				w := workload{where: where, replicas: 1, selector: o.Spec.Selector, template: o.Spec.Template}
				if o.Spec.Replicas != nil {
					w.replicas = *o.Spec.Replicas
				}
				checkWorkload(p, w, k)
				workloads = append(workloads, w)
			case *appsv1.StatefulSet:
				checkObjectMeta(p, where, o.ObjectMeta)
				w := workload{where: where, replicas: 1, selector: o.Spec.Selector, template: o.Spec.Template}
				if o.Spec.Replicas != nil {
					w.replicas = *o.Spec.Replicas
				}
				for _, c := range o.Spec.VolumeClaimTemplates {
					w.claims = append(w.claims, c.Name)
				}
				checkWorkload(p, w, k)
				workloads = append(workloads, w)
			case *corev1.Service:
				checkObjectMeta(p, where, o.ObjectMeta)
				for _, msg := range validation.IsDNS1035Label(o.Name) {
					p.addf("%s: name: %s", where, msg)
				}
				services = append(services, o)
			case *policyv1.PodDisruptionBudget:
				checkObjectMeta(p, where, o.ObjectMeta)
				budgets = append(budgets, o)
			case *corev1.Secret:
				// The manifests ship no secret value: a token, password or key in the repository
				// is one everybody has. Secrets are made with kubectl create secret (README).
				p.addf("%s: a Secret is shipped; make it with kubectl create secret instead (deploy/README.md)", where)
			default:
				if m, ok := obj.(metav1.Object); ok {
					checkObjectMeta(p, where, metav1.ObjectMeta{Name: m.GetName(), Labels: m.GetLabels()})
				}
			}
		}
	}
	for _, s := range services {
		where := fmt.Sprintf("%s: Service %s", dir, s.Name)
		if len(s.Spec.Ports) == 0 {
			p.addf("%s: no ports", where)
		}
		w := selected(workloads, labels.SelectorFromSet(s.Spec.Selector))
		if w == nil {
			p.addf("%s: its selector %v selects no workload here", where, s.Spec.Selector)
			continue
		}
		for _, port := range s.Spec.Ports {
			for _, msg := range validation.IsValidPortNum(int(port.Port)) {
				p.addf("%s: port %d: %s", where, port.Port, msg)
			}
			if port.TargetPort.Type == intstr.String && !hasPort(w.template.Spec, port.TargetPort.StrVal) {
				p.addf("%s: targetPort %q is no container port of %s", where, port.TargetPort.StrVal, w.where)
			}
		}
	}
	for _, b := range budgets {
		where := fmt.Sprintf("%s: PodDisruptionBudget %s", dir, b.Name)
		sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
		if err != nil || b.Spec.Selector == nil {
			p.addf("%s: selector: %v", where, err)
			continue
		}
		w := selected(workloads, sel)
		if w == nil {
			p.addf("%s: its selector selects no workload here", where)
			continue
		}
		// minAvailable must leave room for one pod to go, or a node drain blocks for ever.
		if m := b.Spec.MinAvailable; m != nil && m.Type == intstr.Int && m.IntVal >= w.replicas {
			p.addf("%s: minAvailable %d with %d replicas: no pod may ever be evicted", where, m.IntVal, w.replicas)
		}
	}
	if count == 0 {
		p.addf("%s: no objects", dir)
	}
	if len(p.list) == before {
		fmt.Printf("ok: %s: %d objects decoded strictly into their API types and checked\n", dir, count)
	}
}

// readDocuments splits a YAML file into its documents, skipping empty ones.
func readDocuments(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) > 0 {
			docs = append(docs, doc)
		}
	}
}

// stripComments drops whole-line comments, to tell an empty document from one with content.
func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
			out = append(out, '\n')
		}
	}
	return out
}

func checkObjectMeta(p *problems, where string, m metav1.ObjectMeta) {
	if m.Name == "" {
		p.addf("%s: no metadata.name", where)
	}
	for _, msg := range validation.IsDNS1123Subdomain(m.Name) {
		p.addf("%s: name: %s", where, msg)
	}
	checkLabels(p, where, m.Labels)
}

func checkLabels(p *problems, where string, set map[string]string) {
	for k, v := range set {
		for _, msg := range validation.IsQualifiedName(k) {
			p.addf("%s: label %q: %s", where, k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			p.addf("%s: label %s=%q: %s", where, k, v, msg)
		}
	}
}

// varReference is a $(NAME) in an env value, command or args, expanded by the kubelet.
var varReference = regexp.MustCompile(`\$\(([^)]*)\)`)

func checkWorkload(p *problems, w workload, k kustomization) {
	sel, err := metav1.LabelSelectorAsSelector(w.selector)
	switch {
	case w.selector == nil || sel.Empty():
		p.addf("%s: no selector", w.where)
	case err != nil:
		p.addf("%s: selector: %v", w.where, err)
	case !sel.Matches(labels.Set(w.template.Labels)):
		p.addf("%s: the selector does not match the pod template's labels", w.where)
	}
	checkLabels(p, w.where+" template", w.template.Labels)
	spec := w.template.Spec
	if len(spec.Containers) == 0 {
		p.addf("%s: no containers", w.where)
	}
	// Non-root by number: the image's USER is numeric (deploy/Dockerfile), so runAsNonRoot can
	// be verified; fsGroup makes the volumes writable by that user.
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 || psc.FSGroup == nil {
		p.addf("%s: the pod's securityContext needs runAsNonRoot: true, a non-zero runAsUser and an fsGroup", w.where)
	}
	volumes := map[string]bool{}
	for _, v := range spec.Volumes {
		for _, msg := range validation.IsDNS1123Label(v.Name) {
			p.addf("%s: volume %q: %s", w.where, v.Name, msg)
		}
		if volumes[v.Name] {
			p.addf("%s: volume %q twice", w.where, v.Name)
		}
		volumes[v.Name] = true
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.Secret != nil && src.Secret.Name == "" {
					p.addf("%s: volume %q: a projected secret without a name", w.where, v.Name)
				}
			}
		}
		if v.Secret != nil && v.Secret.SecretName == "" {
			p.addf("%s: volume %q: no secretName", w.where, v.Name)
		}
	}
	for _, c := range w.claims {
		volumes[c] = true
	}
	names := map[string]bool{}
	for _, c := range spec.Containers {
		where := fmt.Sprintf("%s: container %q", w.where, c.Name)
		for _, msg := range validation.IsDNS1123Label(c.Name) {
			p.addf("%s: name: %s", where, msg)
		}
		if names[c.Name] {
			p.addf("%s: the name twice", where)
		}
		names[c.Name] = true
		checkImage(p, where, c, k)
		ports := map[string]bool{}
		for _, port := range c.Ports {
			for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
				p.addf("%s: containerPort: %s", where, msg)
			}
			if port.Name != "" {
				for _, msg := range validation.IsValidPortName(port.Name) {
					p.addf("%s: port %q: %s", where, port.Name, msg)
				}
				if ports[port.Name] {
					p.addf("%s: port %q twice", where, port.Name)
				}
				ports[port.Name] = true
			}
			// A NATS port is opened only with users to check (--nats-users): never anonymous.
			if port.ContainerPort == 4222 && !slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--nats-users") }) {
				p.addf("%s: opens NATS port 4222 without --nats-users: anyone reaching it could publish usage", where)
			}
		}
		if c.ReadinessProbe == nil || c.LivenessProbe == nil {
			p.addf("%s: wants a readinessProbe (/readyz) and a livenessProbe (/healthz)", where)
		}
		for name, probe := range map[string]*corev1.Probe{"startupProbe": c.StartupProbe, "readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
			if probe == nil {
				continue
			}
			if probe.HTTPGet == nil {
				p.addf("%s: %s: want an httpGet", where, name)
				continue
			}
			if port := probe.HTTPGet.Port; port.Type == intstr.String && !ports[port.StrVal] {
				p.addf("%s: %s: port %q is not one of the container's", where, name, port.StrVal)
			}
		}
		defined := map[string]bool{}
		for _, e := range c.Env {
			for _, msg := range validation.IsEnvVarName(e.Name) {
				p.addf("%s: env %q: %s", where, e.Name, msg)
			}
			for _, m := range varReference.FindAllStringSubmatch(e.Value, -1) {
				if !defined[m[1]] {
					p.addf("%s: env %s refers to $(%s), which is not defined before it (it would stay as written)", where, e.Name, m[1])
				}
			}
			if e.ValueFrom != nil {
				if r := e.ValueFrom.SecretKeyRef; r != nil && (r.Name == "" || r.Key == "") {
					p.addf("%s: env %s: a secretKeyRef wants a name and a key", where, e.Name)
				}
				if e.Value != "" {
					p.addf("%s: env %s: both value and valueFrom", where, e.Name)
				}
			}
			defined[e.Name] = true
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				p.addf("%s: volumeMount %q names no volume", where, m.Name)
			}
		}
		for res, limit := range c.Resources.Limits {
			if req, ok := c.Resources.Requests[res]; ok && req.Cmp(limit) > 0 {
				p.addf("%s: requests %s %s above its limit %s", where, res, req.String(), limit.String())
			}
		}
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, corev1.Capability("ALL")) {
			p.addf("%s: securityContext wants readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities drop ALL", where)
		}
		if sc != nil && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			p.addf("%s: runs as root", where)
		}
	}
}

// checkImage: the image names a registry and a tag that the kustomization can set, and is not
// pulled when the node has it (an image loaded with kind load docker-image is used).
func checkImage(p *problems, where string, c corev1.Container, k kustomization) {
	name, tag, hasTag := strings.Cut(c.Image, ":")
	if strings.Contains(tag, "/") { // a registry port, not a tag
		hasTag = false
	}
	if c.Image == "" {
		p.addf("%s: no image", where)
		return
	}
	if !hasTag || tag == "latest" {
		p.addf("%s: image %q: want an explicit tag, not latest", where, c.Image)
	}
	if !strings.Contains(strings.SplitN(name, "/", 2)[0], ".") {
		p.addf("%s: image %q: want a registry host in the name (a bare name is looked up on Docker Hub)", where, c.Image)
	}
	if c.ImagePullPolicy != corev1.PullIfNotPresent {
		p.addf("%s: imagePullPolicy %q: want IfNotPresent", where, c.ImagePullPolicy)
	}
	if !slices.ContainsFunc(k.Images, func(i kustomizeImage) bool { return i.Name == name }) {
		p.addf("%s: image %q is not in the kustomization's images, so its registry cannot be set there", where, name)
	}
}

func selected(ws []workload, sel labels.Selector) *workload {
	for i := range ws {
		if sel.Matches(labels.Set(ws[i].template.Labels)) {
			return &ws[i]
		}
	}
	return nil
}

func hasPort(spec corev1.PodSpec, name string) bool {
	for _, c := range spec.Containers {
		for _, port := range c.Ports {
			if port.Name == name {
				return true
			}
		}
	}
	return false
}

// checkNATSValues checks the values for the NATS Helm chart: clustered with JetStream, an
// authorization block whose every user has a password, and every password a << $VAR >>
// reference to a variable the container takes from a Secret — never a password in clear.
func checkNATSValues(p *problems, path string) {
	before := len(p.list)
	raw, err := os.ReadFile(path)
	if err != nil {
		p.addf("%v", err)
		return
	}
	var v struct {
		Config struct {
			Cluster struct {
				Enabled  bool `json:"enabled"`
				Replicas int  `json:"replicas"`
			} `json:"cluster"`
			JetStream struct {
				Enabled bool `json:"enabled"`
			} `json:"jetstream"`
			Merge struct {
				Authorization struct {
					Users []struct {
						User     string `json:"user"`
						Password string `json:"password"`
					} `json:"users"`
				} `json:"authorization"`
			} `json:"merge"`
		} `json:"config"`
		Container struct {
			Env map[string]struct {
				ValueFrom *corev1.EnvVarSource `json:"valueFrom"`
			} `json:"env"`
		} `json:"container"`
	}
	if err := yaml.Unmarshal(raw, &v); err != nil {
		p.addf("%s: %v", path, err)
		return
	}
	if !v.Config.Cluster.Enabled || v.Config.Cluster.Replicas < 3 || !v.Config.JetStream.Enabled {
		p.addf("%s: want config.cluster.enabled, config.cluster.replicas 3 or more and config.jetstream.enabled", path)
	}
	users := v.Config.Merge.Authorization.Users
	if len(users) == 0 {
		p.addf("%s: config.merge.authorization has no users: NATS would take anyone", path)
	}
	reference := regexp.MustCompile(`^<< \$([A-Z_][A-Z0-9_]*) >>$`)
	for _, u := range users {
		m := reference.FindStringSubmatch(u.Password)
		if m == nil {
			p.addf("%s: user %q: the password is not a << $VAR >> reference to a Secret", path, u.User)
			continue
		}
		env, ok := v.Container.Env[m[1]]
		if !ok || env.ValueFrom == nil || env.ValueFrom.SecretKeyRef == nil {
			p.addf("%s: user %q: container.env.%s does not come from a secretKeyRef", path, u.User, m[1])
		}
	}
	if len(p.list) == before {
		fmt.Printf("ok: %s: cluster of %d with JetStream, %d users, every password from a Secret\n", path, v.Config.Cluster.Replicas, len(users))
	}
}
