package otp_test

import (
	"strings"
	"testing"

	"partnergate/core/fault"
	"partnergate/core/otp"
)

// FuzzParseCode: any input is either refused with a documented fault or
// read as a code whose canonical form is 6 ASCII digits or 20 base32
// characters, and parses again to itself.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"", "123456", "12345", "ABCDE-FGHIJ-KLMNO-PQRST", "abcde fghij klmno pqrst", "1234567", "٠١٢٣٤٥", "ABCDE-FGHIJ-KLMNO-PQRS\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := otp.ParseCode(s)
		if err != nil {
			switch fault.CodeOf(err) {
			case fault.OTPRequired:
				if s != "" {
					t.Fatalf("%q: OTPRequired for a non-empty code", s)
				}
			case fault.OTPMalformed:
			default:
				t.Fatalf("%q: undocumented error %v", s, err)
			}
			return
		}
		switch c.Kind {
		case otp.KindTOTP:
			if len(c.Canon) != 6 || strings.Trim(c.Canon, "0123456789") != "" || c.Canon != s {
				t.Fatalf("%q: TOTP canon %q", s, c.Canon)
			}
		case otp.KindRecovery:
			if len(c.Canon) != 20 || strings.Trim(c.Canon, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
				t.Fatalf("%q: recovery canon %q", s, c.Canon)
			}
			if strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz234567- ") != "" {
				t.Fatalf("%q: accepted a character outside base32, dash and space", s)
			}
		default:
			t.Fatalf("%q: kind %q", s, c.Kind)
		}
		again, err := otp.ParseCode(c.Canon)
		if err != nil || again != c {
			t.Fatalf("%q: canon %q parses to %+v, %v", s, c.Canon, again, err)
		}
	})
}
