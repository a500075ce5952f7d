// Package retentionbench measures what the retention policies' downsampling
// buys (issue 18): disk per series-year with and without the policy, and the
// query time of 2-year dashboard panels on the downsampled series, served by
// promstore itself.
//
// The history is synthetic (internal/metricgen, the catalog's shape) and is
// written straight into TSDB blocks, not through the collector: two years of
// 15 s samples would take days to send. The writer reproduces what promstore
// holds in steady state under the default policy:
//
//   - raw series x, one sample per 15 s, for the last 30 days;
//   - x:5m for the last 180 days and x:1h for the last 730 days, the values
//     the downsampling rules record (last_over_time(x[res]) at each
//     resolution boundary: the raw value there, a decimation);
//   - chunks cut by a head with promstore's 2 h chunk range (the rules
//     append to the head in real time, so an x:1h chunk holds 2 samples),
//     then blocks merged with promstore's TSDB options (tsdb.Open and
//     Compact, blocks up to a tenth of the 2-year retention, 31 days).
//
// Without the policy the store keeps raw samples for the whole retention;
// the benchmark writes 30 days of them into a store of their own and
// extrapolates linearly to a year: past 20 days the compactor's largest
// block range (486 h under the 31-day maximum), a longer raw store is more
// blocks of the same size.
//
// TestRetentionBench runs only with RETENTIONBENCH=1; TestSmoke is the same
// path on a small catalog and a short history, part of make test.
package retentionbench
