// Package metadata tells a tidegate gateway what Linode it runs on, from the
// Linode Metadata Service at 169.254.169.254: its label (the hostname, and
// the gateways entry of the site file that is its own), the address Linode
// assigned its VLAN interface (ipam_address), and the user data (the site
// file).
//
// It is a thin layer on github.com/linode/go-metadata, which does the HTTP
// and the JSON. The layer adds what the gateway needs at boot and
// go-metadata v0.3.1 lacks:
//
//   - Fetch reads token, instance, network and user data in one call and
//     returns them as an Info;
//   - it keeps a token until shortly before it expires, and on a 401 gets a
//     new one and asks again, once;
//   - a non-2xx answer is an error (*StatusError) whatever its body, and a
//     failed round trip keeps its cause (errors.Is(err, syscall.ECONNREFUSED));
//     go-metadata would return an empty document for the one and a string
//     for the other (see transport.go);
//   - every answer is capped at 1 MiB, and the user data is decoded here
//     (base64, then gunzip when it starts with the gzip magic, as
//     go-metadata does) through a cap of MaxUserData (1 MiB) once
//     gunzipped: go-metadata gunzips without one, and a gzip bomb of 100 KiB
//     would expand to 100 MiB. Beyond the cap Fetch stops reading and
//     fails with ErrUserDataTooLarge (userdata.go);
//   - "no user data" (a 200 with an empty body, as Linode documents) is an
//     empty Info.UserData, never an error, and a failed fetch is never an
//     empty Info.UserData;
//   - Wait retries Fetch with capped exponential back-off until the service
//     answers and a condition holds (NeedVLAN, NeedUserData), logging why it
//     waits at most every few seconds.
//
// The user data holds pre-shared keys: nothing here logs it, and Info's
// String, GoString and LogValue leave it out.
//
// Package fakemetadata, below this one, is a fake of the service for tests
// and labs.
package metadata
