package status

import (
	"fmt"
	"io"

	"github.com/tidegate/tidegate/internal/english"
)

// WriteRoutes prints the routes BGP installed in the kernel (`show routes`):
// those the Document lists (the first MaxRoutes by prefix on a large
// table), and how many there are in all.
func WriteRoutes(w io.Writer, d *Document) error {
	if d.RoutesError != "" {
		_, err := fmt.Fprintf(w, "Kernel routes unavailable: %s\n", d.RoutesError)
		return err
	}
	if len(d.Routes) == 0 {
		_, err := fmt.Fprintln(w, "No BGP routes in the kernel.")
		return err
	}
	t := table(w)
	row(t, "Prefix", "Next hop", "Interface", "Metric", "Weight")
	for _, r := range d.Routes {
		for i, nh := range r.NextHops {
			prefix, metric := r.Prefix, fmt.Sprint(r.Metric)
			if i > 0 {
				prefix, metric = "", ""
			}
			weight := ""
			if len(r.NextHops) > 1 {
				weight = fmt.Sprint(max(nh.Weight, 1))
			}
			row(t, prefix, dash(nh.Gateway), dash(nh.Interface), metric, weight)
		}
		if len(r.NextHops) == 0 {
			row(t, r.Prefix, "-", "-", fmt.Sprint(r.Metric), "")
		}
	}
	if err := t.Flush(); err != nil {
		return err
	}
	total := max(d.RoutesTotal, len(d.Routes))
	if total > len(d.Routes) {
		_, err := fmt.Fprintf(w, "\n%d %s installed by BGP (protocol bgp, main table),\nof which the first %d by prefix are shown\n",
			total, english.Plural(total, "route"), len(d.Routes))
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d %s installed by BGP (protocol bgp, main table)\n", total, english.Plural(total, "route"))
	return err
}
