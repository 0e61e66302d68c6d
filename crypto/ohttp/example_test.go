package ohttp_test

import (
	"fmt"

	"github.com/ai-pantheon/aegis/crypto/ohttp"
)

// A gateway publishes its key configuration; a client encapsulates a request
// to it, the gateway opens it and answers through the request's context, and
// the client opens the answer.
func Example() {
	key, err := ohttp.GenerateGatewayKey(1, nil)
	if err != nil {
		panic(err)
	}
	gateway := ohttp.NewGateway(key)
	keys, err := ohttp.MarshalKeyConfigs(key.Config()) // served as application/ohttp-keys
	if err != nil {
		panic(err)
	}

	configs, err := ohttp.ParseKeyConfigs(keys)
	if err != nil {
		panic(err)
	}
	client, err := ohttp.NewClient(configs[0])
	if err != nil {
		panic(err)
	}
	encRequest, clientCtx, err := client.EncapsulateRequest([]byte("binary HTTP request"))
	if err != nil {
		panic(err)
	}

	request, responseCtx, err := gateway.DecapsulateRequest(encRequest)
	if err != nil {
		panic(err)
	}
	encResponse, err := responseCtx.EncapsulateResponse([]byte("binary HTTP response to " + string(request)))
	if err != nil {
		panic(err)
	}

	response, err := clientCtx.DecapsulateResponse(encResponse)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(encRequest)-len(request), "bytes of request overhead")
	fmt.Println(string(response))
	fmt.Println(key)
	// Output:
	// 55 bytes of request overhead
	// binary HTTP response to binary HTTP request
	// ohttp.GatewayKey(id 1, KEM 0x0020)
}
