// Package regression holds the reproducers of bugs found by review, kept as
// tests so they stay fixed: ambiguous header swaps, objects of aborted writes
// replayed into a committed version, same-epoch forks, rollbacks to an older
// epoch, a header copied between named vaults, padding policies a reader would
// refuse, and a damaged last record of the spent-token log.
package regression
