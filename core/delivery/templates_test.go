package delivery

import (
	"reflect"
	"strings"
	"testing"
)

func sampleVars(template string) map[string]string {
	if template == TemplateNoticePassword {
		return map[string]string{}
	}
	if template == TemplateLinkRecovery {
		return map[string]string{"link": "https://example.com/reset?token=Tok3nXYZ", "minutes": "30"}
	}
	if strings.HasPrefix(template, "link.") {
		return map[string]string{"link": "https://example.com/backup/Tok3nXYZ", "expires": "2024-05-17 10:00 UTC"}
	}
	return map[string]string{"code": "493817"}
}

func TestEveryTemplateRendersInEveryLanguage(t *testing.T) {
	if got, want := Languages(), []string{"en", "ru"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Languages() = %v, want %v", got, want)
	}
	want := []string{TemplateCodeChange, TemplateCodeDeletion, TemplateCodePhone, TemplateCodeRecovery, TemplateCodeRegistration, TemplateLinkBackup, TemplateLinkRecovery, TemplateNoticePassword}
	if got := Templates(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Templates() = %v, want %v", got, want)
	}
	for _, lang := range Languages() {
		if got := len(texts[lang]); got != len(want) {
			t.Errorf("%s has %d templates, want %d", lang, got, len(want))
		}
		for _, name := range want {
			for _, ch := range []string{ChannelEmail, ChannelSMS} {
				t.Run(lang+"/"+name+"/"+ch, func(t *testing.T) {
					vars := sampleVars(name)
					subject, body, err := Render(Message{Channel: ch, To: "x", Lang: lang, Template: name, Vars: vars})
					if err != nil {
						t.Fatalf("Render: %v", err)
					}
					if subject == "" || body == "" {
						t.Fatalf("empty subject %q or body %q", subject, body)
					}
					for _, v := range vars {
						if !strings.Contains(body, v) {
							t.Errorf("body %q lacks %q", body, v)
						}
						// Subjects are stored in clear: no var may reach them.
						if strings.Contains(subject, v) {
							t.Errorf("subject %q holds %q", subject, v)
						}
					}
					if strings.Contains(body, "<no value>") || strings.Contains(body, "{{") {
						t.Errorf("body not fully rendered: %q", body)
					}
				})
			}
		}
	}
}

func TestRenderLocalisation(t *testing.T) {
	cases := []struct {
		lang, template, channel string
		vars                    map[string]string
		subject                 string
		bodyHas, bodyLacks      []string
	}{
		{"ru", TemplateCodeRegistration, ChannelEmail, nil, "Подтверждение регистрации",
			[]string{"Ваш код для завершения регистрации: 493817", "Код действует 10 мин."}, nil},
		{"ru-RU", TemplateCodeRecovery, ChannelEmail, nil, "Код восстановления доступа", []string{"493817"}, nil},
		{"RU", TemplateCodeDeletion, ChannelSMS, nil, "Подтверждение удаления аккаунта", []string{"493817"}, nil},
		{"ru_RU", TemplateLinkBackup, ChannelEmail, nil, "Резервная копия аккаунта готова",
			[]string{"Ссылка действует до 2024-05-17 10:00 UTC", "https://example.com/backup/Tok3nXYZ"}, nil},
		{"ru-RU,ru;q=0.9,en;q=0.8", TemplateCodeChange, ChannelSMS, nil, "Подтверждение новых контактных данных",
			[]string{"номера телефона"}, []string{"почты"}},
		{"ru", TemplateCodeChange, ChannelEmail, nil, "Подтверждение новых контактных данных",
			[]string{"адреса электронной почты"}, []string{"телефона"}},
		{"en", TemplateCodeRegistration, ChannelEmail, nil, "Confirm your registration",
			[]string{"Your registration code is 493817. It is valid for 10 minutes."}, nil},
		{"de", TemplateCodeRegistration, ChannelEmail, nil, "Confirm your registration",
			[]string{"Your registration code is 493817"}, nil},
		{"", TemplateCodeRecovery, ChannelSMS, nil, "Account recovery code", []string{"493817"}, nil},
		{"zh-Hant-TW", TemplateLinkBackup, ChannelEmail, nil, "Your account backup is ready",
			[]string{"valid until 2024-05-17 10:00 UTC"}, nil},
		{"en-GB", TemplateCodeChange, ChannelSMS, nil, "Confirm your new contact details",
			[]string{"new phone number is 493817"}, []string{"email"}},
		{"en", TemplateCodeChange, ChannelEmail, map[string]string{"code": "111222", "minutes": "1"}, "Confirm your new contact details",
			[]string{"new email address is 111222", "valid for 1 minute."}, nil},
		{"ru", TemplateCodeDeletion, ChannelEmail, map[string]string{"code": "111222", "minutes": "15"}, "Подтверждение удаления аккаунта",
			[]string{"Код действует 15 мин."}, nil},
	}
	for _, c := range cases {
		t.Run(c.lang+"/"+c.template, func(t *testing.T) {
			vars := c.vars
			if vars == nil {
				vars = sampleVars(c.template)
			}
			subject, body, err := Render(Message{Channel: c.channel, To: "x", Lang: c.lang, Template: c.template, Vars: vars})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if subject != c.subject {
				t.Errorf("subject = %q, want %q", subject, c.subject)
			}
			for _, s := range c.bodyHas {
				if !strings.Contains(body, s) {
					t.Errorf("body %q lacks %q", body, s)
				}
			}
			for _, s := range c.bodyLacks {
				if strings.Contains(body, s) {
					t.Errorf("body %q holds %q", body, s)
				}
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	cases := []struct {
		name string
		m    Message
	}{
		{"unknown template", Message{Channel: ChannelEmail, Lang: "en", Template: "code.nope", Vars: sampleVars("code")}},
		{"unknown template in ru", Message{Channel: ChannelEmail, Lang: "ru", Template: "code.nope", Vars: sampleVars("code")}},
		{"code missing", Message{Channel: ChannelEmail, Lang: "en", Template: TemplateCodeRegistration}},
		{"code missing in ru", Message{Channel: ChannelSMS, Lang: "ru", Template: TemplateCodeChange, Vars: map[string]string{"minutes": "10"}}},
		{"expires missing", Message{Channel: ChannelEmail, Lang: "en", Template: TemplateLinkBackup, Vars: map[string]string{"link": "https://x"}}},
		{"link missing", Message{Channel: ChannelEmail, Lang: "ru", Template: TemplateLinkBackup, Vars: map[string]string{"expires": "soon"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := Render(c.m); err == nil {
				t.Fatal("Render succeeded")
			}
		})
	}
}
