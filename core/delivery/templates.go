package delivery

import (
	"fmt"
	"sort"
	"strings"
	"text/template"
)

// Template names. Each has a subject and a body in every language of
// Languages; English is the fallback for any other language.
const (
	// Codes: var "code" (required), "minutes" (validity, default "10").
	// Registration and recovery codes may carry "ticket" (default ""): seed
	// 002's emails hold a token, the ticket and the code joined by ".",
	// that confirms on its own.
	TemplateCodeRegistration = "code.registration"
	TemplateCodeRecovery     = "code.recovery"
	TemplateCodeDeletion     = "code.deletion"
	// TemplateCodeChange confirms a new email address or phone number; the
	// wording follows the message's channel.
	TemplateCodeChange = "code.change"
	// TemplateCodePhone proves a phone number added to the account (seed
	// 002's resource.phones).
	TemplateCodePhone = "code.phone"
	// TemplateLinkBackup: vars "link" and "expires" (when the link stops
	// working, as text to show, e.g. "2024-05-17 10:00 UTC"), both required.
	TemplateLinkBackup = "link.backup"
	// TemplateLinkRecovery: var "link" (the password reset link, required)
	// and "minutes" (its validity).
	TemplateLinkRecovery = "link.recovery"
	// TemplateNoticePassword tells the user their password was changed or
	// reset (SECURITY.md 4); no vars.
	TemplateNoticePassword = "notice.password"
)

// FallbackLanguage is used for a language without templates.
const FallbackLanguage = "en"

// DefaultMinutes is a code's validity shown when the "minutes" var is unset
// (SECURITY.md 8).
const DefaultMinutes = "10"

// The subjects never hold a var: they are stored in clear, only the body is
// sealed, so nothing secret may reach a subject.
type text struct{ subject, body string }

var texts = map[string]map[string]text{
	"en": {
		TemplateCodeRegistration: {
			"Confirm your registration",
			"Your registration code is {{.code}}. It is valid for {{.minutes}} {{minutesEN .minutes}}.\n" +
				"{{if .ticket}}Your confirmation token: {{.ticket}}.{{.code}}\n{{end}}" +
				"If you did not sign up, ignore this message.",
		},
		TemplateCodeRecovery: {
			"Account recovery code",
			"Your account recovery code is {{.code}}. It is valid for {{.minutes}} {{minutesEN .minutes}}.\n" +
				"{{if .ticket}}Your password reset token: {{.ticket}}.{{.code}}\n{{end}}" +
				"If you did not ask to recover your account, ignore this message: your password has not changed.",
		},
		TemplateCodeDeletion: {
			"Confirm account deletion",
			"Your account deletion code is {{.code}}. It is valid for {{.minutes}} {{minutesEN .minutes}}.\n" +
				"If you did not ask to delete your account, ignore this message and change your password.",
		},
		TemplateCodeChange: {
			"Confirm your new contact details",
			"Your code to confirm your new {{if eq .channel \"sms\"}}phone number{{else}}email address{{end}} is {{.code}}. " +
				"It is valid for {{.minutes}} {{minutesEN .minutes}}.\n" +
				"If you did not change your contact details, ignore this message.",
		},
		TemplateCodePhone: {
			"Confirm your phone number",
			"Your phone verification code is {{.code}}. It is valid for {{.minutes}} {{minutesEN .minutes}}.\n" +
				"If you did not add this number to an account, ignore this message.",
		},
		TemplateLinkBackup: {
			"Your account backup is ready",
			"Your account backup is ready. Download it here:\n{{.link}}\n" +
				"The link is valid until {{.expires}}. Do not share it: anyone with the link can download your data.\n" +
				"If you did not ask for a backup, change your password.",
		},
		TemplateLinkRecovery: {
			"Reset your password",
			"To choose a new password, open this link:\n{{.link}}\n" +
				"It is valid for {{.minutes}} {{minutesEN .minutes}} and works once.\n" +
				"If you did not ask to reset your password, ignore this message: your password has not changed.",
		},
		TemplateNoticePassword: {
			"Your password was changed",
			"The password of your account was just changed, and every other session was signed out.\n" +
				"If you did not do this, recover your account now with \"Forgot password\".",
		},
	},
	"ru": {
		TemplateCodeRegistration: {
			"Подтверждение регистрации",
			"Ваш код для завершения регистрации: {{.code}}. Код действует {{.minutes}} мин.\n" +
				"{{if .ticket}}Ваш токен подтверждения: {{.ticket}}.{{.code}}\n{{end}}" +
				"Если вы не регистрировались, просто проигнорируйте это сообщение.",
		},
		TemplateCodeRecovery: {
			"Код восстановления доступа",
			"Ваш код для восстановления доступа к аккаунту: {{.code}}. Код действует {{.minutes}} мин.\n" +
				"{{if .ticket}}Ваш токен для сброса пароля: {{.ticket}}.{{.code}}\n{{end}}" +
				"Если вы не запрашивали восстановление, проигнорируйте это сообщение: ваш пароль не изменён.",
		},
		TemplateCodeDeletion: {
			"Подтверждение удаления аккаунта",
			"Ваш код для удаления аккаунта: {{.code}}. Код действует {{.minutes}} мин.\n" +
				"Если вы не запрашивали удаление, проигнорируйте это сообщение и смените пароль.",
		},
		TemplateCodeChange: {
			"Подтверждение новых контактных данных",
			"Ваш код для подтверждения нового {{if eq .channel \"sms\"}}номера телефона{{else}}адреса электронной почты{{end}}: {{.code}}. " +
				"Код действует {{.minutes}} мин.\n" +
				"Если вы не меняли контактные данные, проигнорируйте это сообщение.",
		},
		TemplateCodePhone: {
			"Подтверждение номера телефона",
			"Ваш код для подтверждения номера телефона: {{.code}}. Код действует {{.minutes}} мин.\n" +
				"Если вы не добавляли этот номер, проигнорируйте это сообщение.",
		},
		TemplateLinkBackup: {
			"Резервная копия аккаунта готова",
			"Резервная копия вашего аккаунта готова. Скачать её можно по ссылке:\n{{.link}}\n" +
				"Ссылка действует до {{.expires}}. Не передавайте её никому: по ней можно скачать ваши данные.\n" +
				"Если вы не запрашивали копию, смените пароль.",
		},
		TemplateLinkRecovery: {
			"Сброс пароля",
			"Чтобы задать новый пароль, откройте ссылку:\n{{.link}}\n" +
				"Ссылка действует {{.minutes}} мин. и работает один раз.\n" +
				"Если вы не запрашивали сброс пароля, проигнорируйте это сообщение: ваш пароль не изменён.",
		},
		TemplateNoticePassword: {
			"Ваш пароль изменён",
			"Пароль вашего аккаунта только что изменён, все другие сеансы завершены.\n" +
				"Если это были не вы, сразу восстановите доступ через «Забыли пароль».",
		},
	},
}

type parsed struct {
	subject string
	body    *template.Template
}

// tmpls holds every body parsed at start, so a broken template fails the
// first test rather than a user's request.
var tmpls = func() map[string]map[string]parsed {
	funcs := template.FuncMap{
		"minutesEN": func(n string) string {
			if n == "1" {
				return "minute"
			}
			return "minutes"
		},
	}
	out := make(map[string]map[string]parsed, len(texts))
	for lang, ts := range texts {
		out[lang] = make(map[string]parsed, len(ts))
		for name, tx := range ts {
			if strings.Contains(tx.subject, "{{") {
				panic("delivery: template " + lang + "/" + name + ": a subject must not hold vars")
			}
			body := template.Must(template.New(lang + "/" + name).Funcs(funcs).Option("missingkey=error").Parse(tx.body))
			out[lang][name] = parsed{subject: tx.subject, body: body}
		}
	}
	return out
}()

// Languages lists the languages with templates, sorted.
func Languages() []string {
	out := make([]string, 0, len(tmpls))
	for l := range tmpls {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Templates lists the template names, sorted.
func Templates() []string {
	out := make([]string, 0, len(tmpls[FallbackLanguage]))
	for n := range tmpls[FallbackLanguage] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// baseLanguage reduces a language tag ("ru-RU", "ru_RU", "RU",
// "ru-RU,ru;q=0.9") to its primary subtag, lower-cased.
func baseLanguage(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_,; "); i >= 0 {
		lang = lang[:i]
	}
	return lang
}

// Render returns the subject and body of m in m.Lang, or in English when
// there is no template in that language. An unknown template or a missing
// var is an error. The var "channel" is set to m.Channel.
func Render(m Message) (subject, body string, err error) {
	ts, ok := tmpls[baseLanguage(m.Lang)]
	if !ok {
		ts = tmpls[FallbackLanguage]
	}
	p, ok := ts[m.Template]
	if !ok {
		if p, ok = tmpls[FallbackLanguage][m.Template]; !ok {
			return "", "", fmt.Errorf("delivery: unknown template %q", m.Template)
		}
	}
	vars := make(map[string]string, len(m.Vars)+2)
	vars["minutes"] = DefaultMinutes
	vars["ticket"] = ""
	for k, v := range m.Vars {
		vars[k] = v
	}
	vars["channel"] = m.Channel
	var b strings.Builder
	if err := p.body.Execute(&b, vars); err != nil {
		// text/template names the missing key, never its value.
		return "", "", fmt.Errorf("delivery: render %s: %w", m.Template, err)
	}
	return p.subject, b.String(), nil
}
