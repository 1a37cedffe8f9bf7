// netpol-verdict: test infrastructure only. Evaluates NetworkPolicies with cyclonus' policy engine
// (github.com/mattfenwick/cyclonus/pkg/matcher, the model sig-network's conformance tooling grew from),
// so that nls's shipped NetworkPolicy is checked by an implementation of the semantics that is not ours.
//
// stdin: {"policies": [NetworkPolicy...], "cases": [{"name", "source", "destination", "port", "portName", "protocol"}]}
// where source/destination are {"ip"} (outside the cluster, e.g. a host-network caller) or
// {"ip", "namespace", "namespaceLabels", "podLabels"} (a pod).
// stdout: {"verdicts": [{"name", "allowed", "ingress", "egress"}]}, in the order of the cases.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

type peer struct {
	IP              string            `json:"ip"`
	Namespace       string            `json:"namespace"`
	NamespaceLabels map[string]string `json:"namespaceLabels"`
	PodLabels       map[string]string `json:"podLabels"`
}

type trafficCase struct {
	Name        string `json:"name"`
	Source      peer   `json:"source"`
	Destination peer   `json:"destination"`
	Port        int    `json:"port"`
	PortName    string `json:"portName"`
	Protocol    string `json:"protocol"`
}

type input struct {
	Policies []*networkingv1.NetworkPolicy `json:"policies"`
	Cases    []trafficCase                 `json:"cases"`
}

type verdict struct {
	Name    string `json:"name"`
	Allowed bool   `json:"allowed"`
	Ingress bool   `json:"ingress"`
	Egress  bool   `json:"egress"`
}

func trafficPeer(p peer) *matcher.TrafficPeer {
	if p.Namespace == "" {
		return &matcher.TrafficPeer{IP: p.IP}
	}
	return &matcher.TrafficPeer{IP: p.IP, Internal: &matcher.InternalPeer{
		Namespace:       p.Namespace,
		NamespaceLabels: p.NamespaceLabels,
		PodLabels:       p.PodLabels,
	}}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Println("netpol-verdict (cyclonus matcher)")
		return
	}
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintf(os.Stderr, "netpol-verdict: bad input: %v\n", err)
		os.Exit(2)
	}
	policy := matcher.BuildNetworkPolicies(false, in.Policies)
	out := struct {
		Verdicts []verdict `json:"verdicts"`
	}{Verdicts: []verdict{}}
	for _, c := range in.Cases {
		protocol := corev1.Protocol(c.Protocol)
		if protocol == "" {
			protocol = corev1.ProtocolTCP
		}
		result := policy.IsTrafficAllowed(&matcher.Traffic{
			Source:           trafficPeer(c.Source),
			Destination:      trafficPeer(c.Destination),
			ResolvedPort:     c.Port,
			ResolvedPortName: c.PortName,
			Protocol:         protocol,
		})
		out.Verdicts = append(out.Verdicts, verdict{
			Name:    c.Name,
			Allowed: result.IsAllowed(),
			Ingress: result.Ingress.IsAllowed(),
			Egress:  result.Egress.IsAllowed(),
		})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "netpol-verdict: %v\n", err)
		os.Exit(1)
	}
}
