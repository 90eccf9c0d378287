package container

import (
	"testing"

	"github.com/berth-dev/berth/internal/store/storetest"
)

// Container records are read back at start-up by store.Decode, not by
// encoding/json, which wrote them.
func TestRecordDecodesAsWritten(t *testing.T) { storetest.CheckDecode(t, Record{}) }
