import { BrowserRouter, Navigate, Route, Routes } from "react-router";
import { MeetingRoute } from "./components/GuestJoin";
import { RequireAuth } from "./components/RequireAuth";
import { AuthProvider } from "./contexts/AuthContext";
import Dashboard from "./pages/Dashboard";
import Home from "./pages/Home";
import Login from "./pages/Login";
import MeetingPage from "./pages/Meeting";

/**
 * Routes. AuthContext wraps the whole app; WebSocketContext and MeetingContext are provided by
 * the meeting route (pages/Meeting.tsx) because a signaling session and its peer connections live
 * exactly as long as the meeting page: leaving the page closes them.
 */
export default function App() {
  return (
    <AuthProvider>
      <BrowserRouter>
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/login" element={<Login />} />
          <Route
            path="/dashboard"
            element={
              <RequireAuth>
                <Dashboard />
              </RequireAuth>
            }
          />
          <Route
            path="/meeting/:code"
            element={
              <MeetingRoute>
                <MeetingPage />
              </MeetingRoute>
            }
          />
          <Route path="*" element={<Navigate to="/" replace />} />
        </Routes>
      </BrowserRouter>
    </AuthProvider>
  );
}
