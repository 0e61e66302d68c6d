// Package replicas holds the two-replica suite of aegisd (tests only): two
// aegisd processes sharing one S3-compatible bucket, one Redis and one issuer
// key directory, as an operator runs them behind a load balancer. The suite
// needs the services that `make test-services` starts (scripts/services.sh);
// under a plain `make test` it is skipped and says so.
package replicas
