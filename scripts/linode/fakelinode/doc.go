// Package fakelinode is an in-process stand-in for the Linode API v4, for
// tests of code that drives Linode through github.com/linode/linodego
// (scripts/linode) and for the QEMU lab, where each fake instance can be
// backed by a real virtual machine through hooks.
//
// It answers the calls scripts/linode makes, as the real API does: the same
// paths and methods, JSON bodies of the same shape, errors as
// {"errors":[{"reason":...,"field":...}]} with Content-Type application/json
// (linodego checks it), pagination ({"data","page","pages","results"}, the
// page and page_size parameters, a deliberately small default page size so
// that lists span pages), the X-Filter header on the instance list, and
// instances that pass through transitional states ("provisioning",
// "rebuilding", "booting", "shutting_down") before settling, with
// "Linode busy." for any action asked during a transition. Nothing here
// talks to the real API.
//
// The calls served:
//
//	POST   /v4/images/upload                     create an image "pending_upload", return its upload_to URL
//	PUT    /upload/{id}                          the pre-signed upload (no token); the image becomes available after two polls
//	GET    /v4/images/{id}                       private/N
//	GET    /v4/linode/instances                  paginated, X-Filter {"label":...}
//	POST   /v4/linode/instances                  create from an image, with metadata.user_data (base64) and booted
//	GET    /v4/linode/instances/{id}
//	GET    /v4/linode/instances/{id}/disks       paginated
//	GET    /v4/linode/instances/{id}/configs     paginated
//	POST   /v4/linode/instances/{id}/configs
//	DELETE /v4/linode/instances/{id}/configs/{cid}
//	POST   /v4/linode/instances/{id}/boot        {"config_id":N}
//	POST   /v4/linode/instances/{id}/shutdown
//	POST   /v4/linode/instances/{id}/rebuild     image, root_pass, metadata.user_data, booted
//
// # Pointing a client at it
//
// URL is the API's base address, /v4 included. scripts/linode's Client
// takes it as Config.BaseURL, with the fake's token:
//
//	api := fakelinode.New(fakelinode.Config{Token: "test-token"})
//	defer api.Close()
//	c, err := linode.New(linode.Config{Token: api.Token(), BaseURL: api.URL()})
//
// and its CLI (tidegate linode ...) reads the same two from the environment
// variables LINODE_TOKEN and LINODE_URL.
//
// # State
//
// AddImage and AddInstance seed what an account already holds (an image
// uploaded earlier, a pair running it); Image, Instance and Instances return
// copies of what the fake holds now, and Calls the requests it served, in
// order, so that a test can assert the sequence.
//
// # Real machines behind instances
//
// Config.OnShutdown and Config.OnBoot are called when an instance is shut
// down (shutdown, or a rebuild of a running instance) and when it boots
// (boot, a rebuild or create that boots), with the image its disk now holds
// and its user data. While a hook runs the instance shows the action's
// transitional status ("shutting_down", "rebuilding", "booting") and refuses
// other actions; it settles when the hook returns, so a client polling for
// "offline" or "running" waits for the machine. A failed hook leaves the
// instance in StatusShutdownFailed or StatusBootFailed, which the client
// notices as a wait that times out. In outline, for a lab whose VMs are
// the gateways:
//
//	api := fakelinode.New(fakelinode.Config{
//		OnShutdown: func(label string) error { return vm[label].PowerButton() },
//		OnBoot: func(label, image string, userData []byte) error {
//			return vm[label].Boot(disk[image], userData)
//		},
//	})
//	defer api.Close()
//	img := api.AddImage("tidegate-next")
//	api.AddInstance(fakelinode.Instance{Label: "vpn-gw-1", IPv4: []string{"192.0.2.1"},
//		Image: old, UserData: siteYAML, VLAN: "tidegate-vlan", IPAMAddress: "10.0.1.2/24"})
package fakelinode
