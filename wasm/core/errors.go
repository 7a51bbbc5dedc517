package core

import (
	"errors"
	"fmt"
)

// Error is an exception the JS side rethrows: Name is "TypeError" or a DOMException name.
type Error struct {
	Name    string
	Message string
}

func (e *Error) Error() string { return e.Name + ": " + e.Message }

func typeError(format string, args ...any) error {
	return &Error{Name: "TypeError", Message: fmt.Sprintf(format, args...)}
}

func invalidState(msg string) error { return &Error{Name: "InvalidStateError", Message: msg} }

func quotaExceeded(msg string) error { return &Error{Name: "QuotaExceededError", Message: msg} }

// IsQuotaExceeded reports whether a platform error means storage refused the write for quota.
func IsQuotaExceeded(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Name == "QuotaExceededError"
}
