// Package anonymize is the Cloak: the layer between the Vault and the store that
// decides what an observer of the store sees.
//
// The Vault alone seals, pads and orders the objects of every operation. The
// Cloak's Layer is a domain.BlobStore over the real store, composed the way
// go-cloud composes middleware, that the Vault reads and writes through. Every
// stage has an effect an observer of the store can see:
//
//	strip      the transport sends only the fields its protocol needs (plus
//	           Config.AllowMetadata): httpblob's view from Stripped drops every
//	           other HTTP header, whoever added it
//	window     requests wait for the next multiple of Config.Window (10 s) of
//	           the wall clock, on remote stores by default; a local directory's
//	           object files are dated to the start of their window (fsblob's
//	           Dated view), whatever the release setting
//	cover      Config.Cover extra requests go out with every window that carries
//	           requests: reads of objects the layer has seen exist, answered
//	           like real ones, and, while the Vault is writing, writes of fresh
//	           objects of the same size that the Vault removes with its garbage
//	shuffle    the requests of a window, cover included, leave in a uniformly
//	           random order (Fisher-Yates over crypto/rand)
//	authorize  each request carries one single-use token from Config.Tokens
//	           (the server's Privacy Pass tokens on the remote path), attached
//	           with domain.WithToken
//
// Cloak (Open, Create) is a Vault opened through a Layer, with reports and
// running totals of what was actually sent: requests, cover, tokens, windows,
// and bytes before and after padding as the Vault sealed them.
//
// The package imports only domain (and the standard library).
package anonymize
