package pid1

import (
	"os"
	"testing"
)

// The fixtures are a lab guest's /proc/crypto under QEMU -cpu max with the
// image's modules (crypto-cpu), and the same without the blocks of the CPU
// drivers (crypto-generic): what a CPU without AES-NI and AVX leaves.
func TestCryptoDrivers(t *testing.T) {
	for _, tc := range []struct {
		file string
		want map[string]string
	}{
		{"testdata/crypto-cpu", map[string]string{
			"rfc4106(gcm(aes))": "rfc4106-gcm-aesni", "cbc(aes)": "cbc-aes-aesni",
			"sha1": "sha1-avx2", "sha256": "sha256-avx2", "sha512": "sha512-avx2",
		}},
		{"testdata/crypto-generic", map[string]string{
			"sha1": "sha1-generic", "sha256": "sha256-generic", "sha512": "sha512-generic",
		}},
	} {
		f, err := os.Open(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cryptoDrivers(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.file, got, tc.want)
		}
		for alg, d := range tc.want {
			if got[alg] != d {
				t.Errorf("%s: %s: driver %q, want %q", tc.file, alg, got[alg], d)
			}
		}
	}
}
