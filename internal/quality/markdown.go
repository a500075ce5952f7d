package quality

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteMarkdown writes reports as a Markdown document: a summary table of
// every data source, then each source's issues and recommendations.
func WriteMarkdown(w io.Writer, reports []Report) error {
	var b strings.Builder
	b.WriteString("# Data-quality report\n\n")
	if len(reports) > 0 {
		r := reports[0]
		fmt.Fprintf(&b, "Period %s to %s, generated %s. Scores and dimensions in %% (— : does not apply to the source).\n\n",
			msTime(r.PeriodStart), msTime(r.PeriodEnd), msTime(r.GeneratedAt))
	}
	b.WriteString("| data source | quality score | completeness | accuracy | consistency | timeliness | records | issues |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	for _, r := range reports {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %d | %d |\n", r.DataSource, num(r.QualityScore),
			dim(r.Completeness), dim(r.Accuracy), dim(r.Consistency), dim(r.Timeliness), r.RecordsAnalyzed, len(r.Issues))
	}
	for _, r := range reports {
		fmt.Fprintf(&b, "\n## %s\n\nReport `%s`: %d records (%d accepted, %d rejected), quality score %s.\n",
			r.DataSource, r.ReportID, r.RecordsAnalyzed, r.Details.Accepted, r.Details.Rejected, num(r.QualityScore))
		if len(r.Issues) == 0 {
			b.WriteString("\nNo issues.\n")
			continue
		}
		b.WriteString("\n| severity | type | count | affected fields | description |\n|---|---|---|---|---|\n")
		for _, i := range r.Issues {
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s |\n", i.Severity, i.Type, i.Count, codes(i.AffectedFields), cell(i.Description))
		}
		b.WriteString("\n| priority | action | expected impact |\n|---|---|---|\n")
		for _, rec := range r.Recommendations {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", rec.Priority, cell(rec.Action), cell(rec.ExpectedImpact))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func msTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }

func num(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func dim(v *float64) string {
	if v == nil {
		return "—"
	}
	return num(*v)
}

func codes(xs []string) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "`" + x + "`"
	}
	return strings.Join(out, ", ")
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
