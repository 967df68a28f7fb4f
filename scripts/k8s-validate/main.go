// Command k8s-validate decodes Kubernetes manifests (multi-document YAML on stdin) strictly into
// the typed objects of k8s.io/api: an unknown or misspelled field, a value of the wrong type, a
// duplicate field or a kind outside core/v1 and apps/v1 is an error (exit 1). Offline: no cluster.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

func main() {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		fail("scheme: %v", err)
	}
	if err := appsv1.AddToScheme(scheme); err != nil {
		fail("scheme: %v", err)
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(os.Stdin))
	count := 0
	for {
		doc, err := reader.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail("reading YAML: %v", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		count++
		obj, gvk, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			fail("document %d: %v", count, err)
		}
		name := ""
		if accessor, err := meta.Accessor(obj); err == nil {
			name = accessor.GetName()
		}
		if deployment, ok := obj.(*appsv1.Deployment); ok {
			checkDeployment(deployment, count)
		}
		fmt.Printf("%s/%s %s: valid\n", gvk.GroupVersion(), gvk.Kind, name)
	}
	if count == 0 {
		fail("no document on stdin")
	}
}

// checkDeployment holds what the API server would refuse that decoding cannot see.
func checkDeployment(d *appsv1.Deployment, index int) {
	if d.Spec.Selector == nil || len(d.Spec.Selector.MatchLabels) == 0 {
		fail("document %d: Deployment %s has no spec.selector.matchLabels", index, d.Name)
	}
	for key, value := range d.Spec.Selector.MatchLabels {
		if d.Spec.Template.Labels[key] != value {
			fail("document %d: Deployment %s: selector %s=%s does not match the template labels", index, d.Name, key, value)
		}
	}
	if len(d.Spec.Template.Spec.Containers) == 0 {
		fail("document %d: Deployment %s has no container", index, d.Name)
	}
	volumes := map[string]bool{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		volumes[v.Name] = true
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "" || c.Image == "" {
			fail("document %d: Deployment %s: a container needs a name and an image", index, d.Name)
		}
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				fail("document %d: Deployment %s: container %s mounts undeclared volume %s", index, d.Name, c.Name, m.Name)
			}
		}
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "k8s-validate: "+format+"\n", args...)
	os.Exit(1)
}
