module github.com/ai-pantheon/aegis/domain

go 1.26.8
