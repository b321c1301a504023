package linode

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTerraformMatchesDeploy keeps configs/terraform/main.tf describing
// what Deploy creates: the same profile (label, kernel, root device,
// helpers, interfaces), user data and image capability, through the
// provider's current resources rather than its deprecated inline disk and
// config blocks, with a bounded provider version. Terraform itself is not
// available to validate the file, so this reads it as text.
func TestTerraformMatchesDeploy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "configs", "terraform", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	tf := string(b)

	// attr matches `name = value` on a line of its own.
	attr := func(name, value string) string {
		return `(?m)^\s*` + regexp.QuoteMeta(name) + `\s*=\s*` + regexp.QuoteMeta(value) + `\s*(#.*)?$`
	}
	want := []string{
		`(?m)^resource "linode_instance_config" "tidegate" \{$`,
		attr("label", fmt.Sprintf("%q", ProfileLabel)),
		attr("kernel", fmt.Sprintf("%q", Kernel)),
		attr("root_device", `"/dev/sda"`),
		attr("device_name", `"sda"`),
		attr("purpose", `"public"`),
		attr("purpose", `"vlan"`),
		attr("ipam_address", "each.value.ipam_address"),
		attr("cloud_init", "true"),
		attr("user_data", "base64encode(local.site_yaml)"),
		attr("image", "linode_image.tidegate.id"),
		attr("booted", "false"), // the instance, as Deploy creates it
		attr("booted", "true"),  // the profile, as Deploy boots it
		`"tidegate", "tidegate-\$\{local.site.site\}"`,
		`(?m)^\s*version\s*=\s*"~> \d+\.\d+"`,
	}
	// The helpers, from the value Deploy sends.
	var helpers map[string]bool
	hb, _ := json.Marshal(profileHelpers)
	if err := json.Unmarshal(hb, &helpers); err != nil {
		t.Fatal(err)
	}
	for k, v := range helpers {
		want = append(want, attr(k, fmt.Sprint(v)))
	}
	for _, re := range want {
		if !regexp.MustCompile(re).MatchString(tf) {
			t.Errorf("main.tf lacks %s", re)
		}
	}

	// The public interface comes first: eth0 is the public side.
	if pub, vlan := strings.Index(tf, `purpose = "public"`), strings.Index(tf, `purpose      = "vlan"`); pub < 0 || vlan < 0 || pub > vlan {
		t.Errorf("main.tf: the public interface is not eth0 (public at %d, vlan at %d)", pub, vlan)
	}
	// The provider deprecates disk and config blocks inside
	// linode_instance; random passwords need no second provider.
	for _, re := range []string{`(?m)^\s*disk\s*\{`, `(?m)^\s*config\s*\{`, `(?m)^\s*devices\s*\{`, `random_password`} {
		if regexp.MustCompile(re).MatchString(tf) {
			t.Errorf("main.tf has %s", re)
		}
	}
}
