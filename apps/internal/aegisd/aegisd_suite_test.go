package aegisd_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestAegisd(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "aegisd: HTTP API, tokens and httpblob on a real server")
}

var _ = AfterSuite(removeAegisdBinary)
