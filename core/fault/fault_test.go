package fault_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"partnergate/core/fault"
)

// TestCatalogueMatchesDocs keeps docs/errors.md and the catalogue in step:
// every code has a row whose message is the catalogue's, and every row's
// code exists. Clients match on the documented codes, so a code added
// without a row, or a row left for a removed code, is a broken contract.
func TestCatalogueMatchesDocs(t *testing.T) {
	doc, err := os.ReadFile("../../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^\| (\d{4}) \| ([^|]*) \|`)
	documented := map[fault.Code]string{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		n, _ := strconv.Atoi(m[1])
		c := fault.Code(n)
		if _, dup := documented[c]; dup {
			t.Errorf("docs/errors.md lists %d twice", n)
		}
		documented[c] = strings.TrimSpace(m[2])
	}
	if len(documented) == 0 {
		t.Fatal("no catalogue rows found in docs/errors.md")
	}
	for _, c := range fault.Codes() {
		msg, ok := documented[c]
		switch {
		case !ok:
			t.Errorf("code %d (%q) has no row in docs/errors.md", c, c.Message())
		case msg != c.Message():
			t.Errorf("code %d: docs say %q, the catalogue %q", c, msg, c.Message())
		}
		delete(documented, c)
	}
	for c := range documented {
		t.Errorf("docs/errors.md lists %d, which the catalogue does not have", c)
	}
}

func TestConstructors(t *testing.T) {
	if e := fault.New(fault.NotFound); e.Code != fault.NotFound || e.Message != fault.NotFound.Message() {
		t.Errorf("New: %+v", e)
	}
	e := fault.Field(fault.Invalid, "email", "required")
	if e.Fields["email"] != "required" || fault.CodeOf(e) != fault.Invalid {
		t.Errorf("Field: %+v", e)
	}
	if fault.CodeOf(nil) != 0 {
		t.Error("CodeOf(nil) != 0")
	}
	for _, c := range fault.Codes() {
		if c.Message() == "" {
			t.Errorf("code %d has no message", c)
		}
	}
}
