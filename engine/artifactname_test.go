package engine

import "testing"

func TestArtifactName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   StepInput
		want string
	}{
		{"first attempt", StepInput{Attempt: 1}, "stdout.txt"},
		{"no attempt yet", StepInput{}, "stdout.txt"},
		{"retry", StepInput{Attempt: 3}, "stdout.attempt-3.txt"},
		{"item", StepInput{Attempt: 1, ForEach: true, ItemIndex: 0}, "stdout-item-0.txt"},
		{"item retried", StepInput{Attempt: 2, ForEach: true, ItemIndex: 7}, "stdout-item-7.attempt-2.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ArtifactName("stdout", ".txt", &tt.in); got != tt.want {
				t.Errorf("ArtifactName: got %q, want %q", got, tt.want)
			}
		})
	}
}
