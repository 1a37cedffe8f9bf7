// Command kubelet-admit runs the kubelet's own pod admission predicates — the handler the kubelet
// registers with lifecycle.NewPredicateAdmitHandler (pkg/kubelet/kubelet.go) — on a Node and a Pod read
// as JSON from stdin, and prints the verdict as JSON on stdout. Test infrastructure only: it lets the e2e
// suite show, with the real code rather than a citation, what a kubelet does with a pod that requests an
// extended resource its node does not advertise.
//
// stdin:  {"node": <v1.Node>, "pod": <v1.Pod>, "otherPods": [<v1.Pod>...]}
// stdout: {"admit": bool, "reason": string, "message": string}
//
// The plugin-resource hook is the device manager's UpdatePluginResources for a pod that was given no
// devices (it returns at once, pkg/kubelet/cm/devicemanager/manager.go); the failure handler passes
// failures on, as the kubelet's critical-pod handler does for a pod that is not critical.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	v1 "k8s.io/api/core/v1"
	"k8s.io/kubernetes/pkg/kubelet/lifecycle"
	schedulerframework "k8s.io/kubernetes/pkg/scheduler/framework"
)

type input struct {
	Node      *v1.Node  `json:"node"`
	Pod       *v1.Pod   `json:"pod"`
	OtherPods []*v1.Pod `json:"otherPods"`
}

type verdict struct {
	Admit   bool   `json:"admit"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func main() {
	var in input
	dec := json.NewDecoder(os.Stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		fmt.Fprintf(os.Stderr, "kubelet-admit: bad input: %v\n", err)
		os.Exit(2)
	}
	if in.Node == nil || in.Pod == nil {
		fmt.Fprintln(os.Stderr, "kubelet-admit: input needs both node and pod")
		os.Exit(2)
	}
	node := in.Node
	handler := lifecycle.NewPredicateAdmitHandler(
		func() (*v1.Node, error) { return node, nil },
		lifecycle.NewAdmissionFailureHandlerStub(),
		func(*schedulerframework.NodeInfo, *lifecycle.PodAdmitAttributes) error { return nil },
	)
	result := handler.Admit(&lifecycle.PodAdmitAttributes{Pod: in.Pod, OtherPods: in.OtherPods})
	out, err := json.Marshal(verdict{Admit: result.Admit, Reason: result.Reason, Message: result.Message})
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubelet-admit: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
