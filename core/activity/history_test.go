package activity

import "testing"

func TestParseUserAgent(t *testing.T) {
	for _, tc := range []struct {
		ua   string
		want Client
	}{
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/75.0.3770.142 Safari/537.36",
			Client{BrowserFamily: "Chrome", BrowserVersion: "75.0.3770.142", OSFamily: "macOS", OSVersion: "10.14.6", DeviceFamily: "Other", Kind: "browser"}},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
			Client{BrowserFamily: "Safari", BrowserVersion: "17.1", OSFamily: "iOS", OSVersion: "17.1", DeviceFamily: "iPhone", DeviceBrand: "Apple", DeviceModel: "iPhone", Kind: "browser"}},
		{"", Client{BrowserFamily: "Other", OSFamily: "Other", DeviceFamily: "Other", Kind: "api"}},
		{"partnergate-go/1.0", Client{BrowserFamily: "partnergate-go", BrowserVersion: "1.0", OSFamily: "Other", DeviceFamily: "Other", Kind: "api"}},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", Client{BrowserFamily: "Googlebot", BrowserVersion: "2.1", OSFamily: "Other", DeviceFamily: "Other", Kind: "bot"}},
	} {
		if got := ParseUserAgent(tc.ua); got != tc.want {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.ua, got, tc.want)
		}
	}
}

func FuzzParseUserAgent(f *testing.F) {
	f.Add("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36")
	f.Fuzz(func(t *testing.T, s string) {
		c := ParseUserAgent(s)
		if c.BrowserFamily == "" || c.OSFamily == "" || c.DeviceFamily == "" || c.Kind == "" {
			t.Fatalf("%q: empty family in %+v", s, c)
		}
	})
}
