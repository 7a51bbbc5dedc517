package core

import "fmt"

// Error is an exception the JS side rethrows: Name is "TypeError" or a DOMException name.
type Error struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Name + ": " + e.Message }

func typeError(format string, args ...any) error {
	return &Error{Name: "TypeError", Message: fmt.Sprintf(format, args...)}
}

func invalidState(msg string) error { return &Error{Name: "InvalidStateError", Message: msg} }
