package decoder

import (
	"bytes"
	"time"

	"github.com/valyala/fastjson"
)

// Slots the cross-field checks and the emitter read, resolved once at init.
var (
	evTimestamp   = eventSpec.lookup("timestamp")
	evRetention   = eventSpec.lookup("dataRetentionDays")
	evEventID     = eventSpec.lookup("eventId")
	evSessionID   = eventSpec.lookup("sessionId")
	evUserID      = eventSpec.lookup("userId")
	evBehEventID  = eventSpec.lookup("behavior.eventId")
	evBehSession  = eventSpec.lookup("behavior.sessionId")
	evBehUserID   = eventSpec.lookup("behavior.userId")
	evBehTime     = eventSpec.lookup("behavior.timestamp")
	evQualitySlot = []int{
		evUserID,
		eventSpec.lookup("userAgent"),
		eventSpec.lookup("properties.page"),
		eventSpec.lookup("properties.feature"),
		eventSpec.lookup("properties.value"),
		eventSpec.lookup("properties.duration"),
		eventSpec.lookup("behavior"),
	}

	recTimestamp    = recommendationSpec.lookup("timestamp")
	recRespTime     = recommendationSpec.lookup("responseTimestamp")
	recQualitySlots = []int{
		recommendationSpec.lookup("recommendationData.reasoning"),
		recommendationSpec.lookup("userResponse"),
		recommendationSpec.lookup("engagementMetrics"),
		recRespTime,
	}
	recFullOnly = []string{"modelId", "modelVersion", "recommendationType", "context", "timestamp"}

	modelTimestamp = modelSpec.lookup("timestamp")
	modelStart     = modelSpec.lookup("evaluationPeriod.startTime")
	modelEnd       = modelSpec.lookup("evaluationPeriod.endTime")
	bizTimestamp   = businessSpec.lookup("timestamp")
	bizStart       = businessSpec.lookup("periodStart")
	bizEnd         = businessSpec.lookup("periodEnd")
	sysTimestamp   = systemSpec.lookup("timestamp")
	sysStart       = systemSpec.lookup("timeWindow.start")
	sysEnd         = systemSpec.lookup("timeWindow.end")
	sysErrorTypes  = systemSpec.lookup("errorMetrics.errorTypes")
)

// uniqueErrorTypes rejects two errorTypes entries of the same type: they
// would be two samples of one series at one time.
func (w *walker) uniqueErrorTypes() {
	v := w.vals[sysErrorTypes]
	if v == nil {
		return
	}
	arr, _ := v.Array()
	for i := 1; i < len(arr); i++ {
		t := arr[i].GetStringBytes("type")
		for j := 0; j < i; j++ {
			if bytes.Equal(t, arr[j].GetStringBytes("type")) {
				f := w.sp.flat[sysErrorTypes]
				w.fail(f.path+"["+itoa(i)+"].type", f, nil, CodeDuplicate, "duplicate type; entry "+itoa(j)+" has the same one")
				return
			}
		}
	}
}

// hooks run after an event's fields are validated one by one, for rules that
// span fields. seen holds the root fields that were present.
var hooks = [...]func(w *walker, seen uint64){
	Events: func(w *walker, _ uint64) {
		retention := w.opts.DefaultRetention
		if w.vals[evRetention] != nil {
			retention = time.Duration(w.nums[evRetention]) * 24 * time.Hour
		}
		w.checkTime(evTimestamp, retention)
		w.sameString(evBehEventID, evEventID)
		w.sameString(evBehSession, evSessionID)
		w.sameString(evBehUserID, evUserID)
		if w.vals[evBehTime] != nil && w.vals[evTimestamp] != nil && w.nums[evBehTime] != w.nums[evTimestamp] {
			f := eventSpec.flat[evBehTime]
			w.fail(f.path, f, w.vals[evBehTime], CodeMismatch, "must equal the event's timestamp")
		}
	},
	Recommendations: func(w *walker, seen uint64) {
		root := recommendationSpec.root
		has := func(name string) bool { return seen&(uint64(1)<<root.byName[name]) != 0 }
		w.full = has("recommendationData")
		if w.full {
			for _, name := range recFullOnly {
				if !has(name) {
					w.fail(name, nil, nil, CodeMissing, "required field is missing (a record with recommendationData is a full recommendation)")
				}
			}
		} else {
			if !has("userResponse") {
				w.fail("recommendationData", nil, nil, CodeMissing, "required field is missing (send recommendationData, or userResponse for an earlier recommendationId)")
			}
			if !has("responseTimestamp") && has("userResponse") {
				w.fail("responseTimestamp", nil, nil, CodeMissing, "required field is missing (a later userResponse needs its responseTimestamp)")
			}
		}
		w.checkTime(recTimestamp, w.opts.DefaultRetention)
		w.checkTime(recRespTime, w.opts.DefaultRetention)
		w.notBefore(recRespTime, recTimestamp)
	},
	ModelMetrics: func(w *walker, _ uint64) {
		w.checkSnapshotTime(modelTimestamp)
		w.notBefore(modelEnd, modelStart)
		w.notBefore(modelTimestamp, modelStart)
	},
	BusinessMetrics: func(w *walker, _ uint64) {
		w.checkSnapshotTime(bizTimestamp)
		w.notBefore(bizEnd, bizStart)
		w.notBefore(bizTimestamp, bizStart)
	},
	SystemMetrics: func(w *walker, _ uint64) {
		w.checkSnapshotTime(sysTimestamp)
		w.notBefore(sysEnd, sysStart)
		w.notBefore(sysTimestamp, sysStart)
		w.uniqueErrorTypes()
	},
}

// checkTime rejects timestamps too far in the future or older than retention.
func (w *walker) checkTime(slot int, retention time.Duration) {
	v := w.vals[slot]
	if v == nil {
		return
	}
	f := w.sp.flat[slot]
	t := time.UnixMilli(int64(w.nums[slot]))
	switch {
	case t.After(w.now.Add(w.opts.MaxFutureSkew)):
		w.fail(f.path, f, v, CodeTime, "is more than "+w.opts.MaxFutureSkew.String()+" ahead of the server's clock")
	case t.Before(w.now.Add(-retention)):
		w.fail(f.path, f, v, CodeTime, "is older than the retention period of "+retentionDays(retention))
	}
}

// checkSnapshotTime is checkTime for a snapshot's timestamp, which must
// also not be older than MaxSnapshotAge: the store would refuse it.
func (w *walker) checkSnapshotTime(slot int) {
	v := w.vals[slot]
	if v == nil {
		return
	}
	t := time.UnixMilli(int64(w.nums[slot]))
	if age := w.opts.MaxSnapshotAge; age < w.opts.DefaultRetention && t.Before(w.now.Add(-age)) && !t.Before(w.now.Add(-w.opts.DefaultRetention)) {
		f := w.sp.flat[slot]
		w.fail(f.path, f, v, CodeTime, "is older than max_snapshot_age ("+age.String()+"): the store cannot take it")
		return
	}
	w.checkTime(slot, w.opts.DefaultRetention)
}

func retentionDays(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	if days == 1 {
		return "1 day"
	}
	return itoa(days) + " days"
}

// notBefore requires the time in slot a to be at or after the one in slot b.
func (w *walker) notBefore(a, b int) {
	if w.vals[a] != nil && w.vals[b] != nil && w.nums[a] < w.nums[b] {
		f := w.sp.flat[a]
		w.fail(f.path, f, w.vals[a], CodeTime, "must not be before "+w.sp.flat[b].path)
	}
}

// sameString requires the string in slot a, when present, to equal slot b's.
func (w *walker) sameString(a, b int) {
	va := w.vals[a]
	if va == nil {
		return
	}
	vb := w.vals[b]
	if vb == nil || !bytes.Equal(va.GetStringBytes(), vb.GetStringBytes()) {
		f := w.sp.flat[a]
		w.fail(f.path, f, va, CodeMismatch, "must equal the event's "+w.sp.flat[b].path)
	}
}

// quality is the seed's qualityScore: the share of optional fields present,
// 0 to 100.
func quality(vals []*fastjson.Value, slots []int) float64 {
	n := 0
	for _, s := range slots {
		if vals[s] != nil {
			n++
		}
	}
	return float64(100*n) / float64(len(slots))
}
