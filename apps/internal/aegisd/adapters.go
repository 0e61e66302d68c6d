package aegisd

// The adapters aegisd offers for --store and --ledger: importing one registers
// its URL schemes with openurl, which ProvideURLs, ProvideStore and
// ProvideLedger use. Adding an adapter here is all it takes to offer it.
import (
	_ "github.com/ai-pantheon/aegis/adapters/fileledger"  // ledger file://DIR
	_ "github.com/ai-pantheon/aegis/adapters/fsblob"      // store file://DIR
	_ "github.com/ai-pantheon/aegis/adapters/memblob"     // store memory://
	_ "github.com/ai-pantheon/aegis/adapters/memledger"   // ledger memory://
	_ "github.com/ai-pantheon/aegis/adapters/redisledger" // ledger redis://HOST:PORT/DB
	_ "github.com/ai-pantheon/aegis/adapters/s3blob"      // store s3://BUCKET[/PREFIX]?…
)
