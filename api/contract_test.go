package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// contract is the OpenAPI document the service serves, ready to check
// requests and responses against.
type contract struct {
	doc    *openapi3.T
	router routers.Router
}

func loadContract(t testing.TB) *contract {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDoc)
	if err != nil {
		t.Fatalf("the OpenAPI document does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is not valid: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("the OpenAPI document's paths: %v", err)
	}
	return &contract{doc: doc, router: router}
}

// check validates one answer to req against the document: its status
// must be documented for the operation, and its headers and body must fit
// the schema. A request the service accepted (2xx) must also be one the
// document allows, its body aside (the test's bodies are sent, not kept).
// A request to no documented operation must be answered 404 or 405 in
// the error shape.
func (ct *contract) check(req *http.Request, status int, header http.Header, body []byte) error {
	ctx := context.Background()
	route, params, err := ct.router.FindRoute(req)
	if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return fmt.Errorf("no documented operation, yet answered %d", status)
		}
		errSchema := ct.doc.Components.Schemas["Error"].Value
		return errSchema.VisitJSON(decodeJSONValue(body))
	}
	if err != nil {
		return err
	}
	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		ExcludeRequestBody:    true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if status/100 == 2 {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			return fmt.Errorf("the service accepted a request the document refuses: %w", err)
		}
	}
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
	})
}

// decodeJSONValue decodes b for schema validation; what does not decode
// is passed on as a string, which an object schema refuses.
func decodeJSONValue(b []byte) any {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	return v
}

// validatingTransport checks every answer the test client receives against
// the contract, failing the test on a mismatch.
type validatingTransport struct {
	t        testing.TB
	contract *contract
	base     http.RoundTripper
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := v.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		// The body broke off (a refused upload closes the connection):
		// the test sees that; there is nothing whole to validate.
		return resp, nil
	}
	if err := v.contract.check(req, resp.StatusCode, resp.Header, body); err != nil {
		v.t.Errorf("%s %s answered %d against the OpenAPI document: %v\n%s",
			req.Method, req.URL.RequestURI(), resp.StatusCode, err, truncate(string(body), 2000))
	}
	return resp, nil
}

// validatingClient is an HTTP client whose answers are checked against
// the OpenAPI document.
func validatingClient(t testing.TB) *http.Client {
	return &http.Client{Transport: &validatingTransport{t: t, contract: loadContract(t), base: http.DefaultTransport}}
}

// TestOpenAPIDocument checks the document itself: every operation has an
// operationId, unique, and the error codes it lists are the server's.
func TestOpenAPIDocument(t *testing.T) {
	ct := loadContract(t)
	seen := map[string]string{}
	for path, item := range ct.doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if other, dup := seen[op.OperationID]; dup {
				t.Errorf("%s and %s share the operationId %s", where, other, op.OperationID)
			}
			seen[op.OperationID] = where
		}
	}
	code := ct.doc.Components.Schemas["Error"].Value.Properties["error"].Value.Properties["code"].Value
	var documented []string
	for _, v := range code.Enum {
		documented = append(documented, v.(string))
	}
	slices.Sort(documented)
	served := slices.Sorted(slices.Values(errorCodes()))
	if !slices.Equal(documented, served) {
		t.Errorf("the document's error codes\n%s\ndiffer from the server's\n%s", strings.Join(documented, " "), strings.Join(served, " "))
	}
}

// TestContractCatchesDrift makes sure the validation bites: answers that
// break the document are reported.
func TestContractCatchesDrift(t *testing.T) {
	ct := loadContract(t)
	get := func(path string) *http.Request {
		req, _ := http.NewRequest("GET", "http://127.0.0.1"+path, nil)
		req.Header.Set("Authorization", "Bearer x")
		return req
	}
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
		body   string
		ok     bool
	}{
		{"an analysis", get("/v1/analyses/an_000000000000000000000000"), 200,
			`{"id":"an_000000000000000000000000","url":"/v1/analyses/an_000000000000000000000000","status":"queued","progress":0,"file":{"name":"a.mp4","sha256":"00","size_bytes":1},"attempts":0,"created_at":"2026-01-01T00:00:00Z"}`, true},
		{"an unknown status", get("/v1/analyses/an_000000000000000000000000"), 200,
			`{"id":"an_000000000000000000000000","url":"/v1/analyses/an_000000000000000000000000","status":"exploded","progress":0,"file":{"name":"a.mp4","sha256":"00","size_bytes":1},"attempts":0,"created_at":"2026-01-01T00:00:00Z"}`, false},
		{"an error", get("/v1/analyses/an_000000000000000000000000"), 404, `{"error":{"code":"not_found","message":"no analysis with this id"}}`, true},
		{"an unknown error code", get("/v1/analyses/an_000000000000000000000000"), 404, `{"error":{"code":"gone_fishing","message":"x"}}`, false},
		{"an undocumented status", get("/v1/analyses/an_000000000000000000000000"), 418, `{"error":{"code":"bad_request","message":"x"}}`, false},
		{"an unknown route", get("/v1/nothing"), 404, `{"error":{"code":"not_found","message":"no such route"}}`, true},
		{"an unknown route answered", get("/v1/nothing"), 200, `{}`, false},
		{"an accepted request the document refuses", get("/v1/analyses?limit=9999"), 200, `{"analyses":[]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ct.check(tc.req, tc.status, jsonHeader, []byte(tc.body))
			if (err == nil) != tc.ok {
				t.Errorf("check = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
