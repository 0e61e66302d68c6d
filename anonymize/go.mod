module github.com/ai-pantheon/aegis/anonymize

go 1.26.8
