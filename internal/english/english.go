// Package english has the bit of grammar that tidegate's messages and
// tables need, for the console shell, the status API and the command line
// alike.
package english

// Plural returns word for one of it and word+"s" otherwise ("1 route",
// "0 routes", "2 routes"). It knows only regular nouns, which is all the
// messages use.
func Plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
